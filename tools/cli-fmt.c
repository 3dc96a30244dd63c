/* cli-fmt — times, display widths and cells for the tool's text output. */
#include "config.h"

#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wchar.h>

#include "cli-fmt.h"

static int use_utc;

void
sg_cli_fmt_init(int utc)
{
	const char *cs;

	use_utc = utc;
	setlocale(LC_CTYPE, "");
	cs = setlocale(LC_CTYPE, NULL);
	if (cs == NULL || (strstr(cs, "UTF-8") == NULL && strstr(cs, "utf8") == NULL))
		setlocale(LC_CTYPE, "C.UTF-8");
	tzset();
}

const char *
sg_cli_time(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t == 0)
		snprintf(buf, len, "-");
	else if (use_utc)
		strftime(buf, len, "%Y-%m-%d %H:%M:%SZ", gmtime_r(&tt, &tm));
	else
		strftime(buf, len, "%Y-%m-%d %H:%M:%S", localtime_r(&tt, &tm));
	return buf;
}

/* One character of s: its byte length and columns; *ok = 0 when it is
 * not printable as it is. */
static size_t
one_char(const char *s, size_t left, int *cols, int *ok)
{
	mbstate_t ps;
	wchar_t wc;
	size_t n;

	memset(&ps, 0, sizeof(ps));
	n = mbrtowc(&wc, s, left, &ps);
	if (n == (size_t)-1 || n == (size_t)-2 || n == 0) {
		*cols = 1;
		*ok = 0;
		return 1;
	}
	int w = wcwidth(wc);
	*ok = w >= 0;
	*cols = w >= 0 ? w : 1;
	return n;
}

int
sg_cli_width(const char *s)
{
	size_t left = s ? strlen(s) : 0;
	int total = 0, cols, ok;

	while (left > 0) {
		size_t n = one_char(s, left, &cols, &ok);
		total += cols;
		s += n;
		left -= n;
	}
	return total;
}

void
sg_cli_cell(FILE *fp, const char *s, int width)
{
	size_t left = s ? strlen(s) : 0;
	int used = 0, cols, ok;
	int limit = width > 0 && sg_cli_width(s) > width ? width - 1 : width;

	while (left > 0) {
		size_t n = one_char(s, left, &cols, &ok);
		if (limit > 0 && used + cols > limit)
			break;
		if (ok)
			fwrite(s, 1, n, fp);
		else
			fputc('?', fp);
		used += cols;
		s += n;
		left -= n;
	}
	if (left > 0 && width > 0) {
		fputs("\xe2\x80\xa6", fp);   /* an ellipsis: the cell was cut */
		used++;
	}
	for (; used < width; used++)
		fputc(' ', fp);
}
