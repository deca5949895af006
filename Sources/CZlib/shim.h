#ifndef SEAM_CZLIB_SHIM_H
#define SEAM_CZLIB_SHIM_H
#include <zlib.h>
#endif
