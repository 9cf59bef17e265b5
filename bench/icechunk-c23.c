/*
 * C23 entry points of glibc 2.38 for systems with an older glibc, so that
 * Icechunk's Node.js addon (built against glibc 2.38) loads there. The addon
 * asks for __isoc23_sscanf and __isoc23_strtol without a symbol version (see
 * `nm -D --undefined-only --with-symbol-versions` on its .node file), so plain
 * definitions preloaded with LD_PRELOAD satisfy it. Each calls the classic
 * function; the one C23 change they carry over is strto*'s "0b" prefix for
 * binary with base 0 or 2 (sscanf's %b conversion is not provided).
 *
 * bench/run.mjs compiles this with `cc -shared -fPIC` into its work folder and
 * preloads it for the Icechunk runs only.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* Where a C23 binary number starts in s ("0b1…" after blanks and a sign), or 0. */
static const char *binary_digits(const char *s, int base) {
  if (base != 0 && base != 2) return 0;
  while (isspace((unsigned char)*s)) s++;
  if (*s == '+' || *s == '-') s++;
  if (s[0] == '0' && (s[1] == 'b' || s[1] == 'B') && (s[2] == '0' || s[2] == '1')) return s + 2;
  return 0;
}

#define C23_STRTO(name, classic, type)                                          \
  type name(const char *restrict s, char **restrict end, int base) {            \
    const char *digits = binary_digits(s, base);                                \
    if (!digits) return classic(s, end, base);                                  \
    /* the sign stays in front of the digits: parse "-101" as base 2 */          \
    const char *p = s;                                                          \
    while (isspace((unsigned char)*p)) p++;                                     \
    int negative = *p == '-';                                                   \
    type v = classic(digits, end, 2);                                           \
    return negative ? (type)(0 - v) : v;                                        \
  }

C23_STRTO(__isoc23_strtol, strtol, long)
C23_STRTO(__isoc23_strtoul, strtoul, unsigned long)
C23_STRTO(__isoc23_strtoll, strtoll, long long)
C23_STRTO(__isoc23_strtoull, strtoull, unsigned long long)

int __isoc23_sscanf(const char *restrict s, const char *restrict format, ...) {
  va_list ap;
  va_start(ap, format);
  int n = vsscanf(s, format, ap);
  va_end(ap);
  return n;
}

int __isoc23_vsscanf(const char *restrict s, const char *restrict format, va_list ap) {
  return vsscanf(s, format, ap);
}
