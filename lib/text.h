/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Text copied from untrusted input into an output format: valid UTF-8 only,
 * no control characters, and each format's own escaping.
 */
#ifndef PMB_TEXT_H
#define PMB_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when the bytes there are not one. */
size_t pmb_utf8_len(const unsigned char *s);
/*
 * s as valid UTF-8 on one line: every invalid byte becomes '?', every
 * control character (including CR, LF, tab and the C1 controls such as NEL)
 * and the line and paragraph separators U+2028 and U+2029 a space.  Cut to
 * len - 1 bytes at a character boundary.
 */
void pmb_text_clean(const char *s, char *out, size_t len);
/* XML character data or attribute value: & < > " ' escaped, then cleaned as above. */
void pmb_xml_put(FILE *f, const char *s);

#endif
