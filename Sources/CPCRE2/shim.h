#ifndef SEAM_CPCRE2_SHIM_H
#define SEAM_CPCRE2_SHIM_H
// The 8-bit (UTF-8) library: Seam's text is UTF-8 bytes, matched in place.
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#endif
