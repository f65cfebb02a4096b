#include "core/err.h"

const char *asc_err_name(asc_err_t e)
{
    switch (e) {
    case ASC_OK: return "ok";
    case ASC_ENOMEM: return "out of memory";
    case ASC_EINVAL: return "invalid input";
    case ASC_ETOOBIG: return "too large";
    case ASC_ENOTFOUND: return "not found";
    case ASC_EIO: return "i/o error";
    case ASC_ECLOSED: return "connection closed";
    case ASC_EDENIED: return "denied";
    case ASC_EUNSUPPORTED: return "unsupported";
    case ASC_ETIMEOUT: return "timed out";
    case ASC_EUPSTREAM: return "upstream error";
    }
    return "unknown error";
}
