/*
 * asc error codes.
 *
 * Every fallible function returns asc_err_t (0 = ok). The human message, when
 * there is one, goes into a caller-provided buffer or the request's record,
 * never into the return value (curl's CURLcode + failf()).
 */
#ifndef ASC_CORE_ERR_H
#define ASC_CORE_ERR_H

typedef enum {
    ASC_OK = 0,
    ASC_ENOMEM,       /* allocation failed */
    ASC_EINVAL,       /* malformed input (client or config) */
    ASC_ETOOBIG,      /* a bounded buffer refused to grow past its limit */
    ASC_ENOTFOUND,    /* lookup missed */
    ASC_EIO,          /* system call or socket failure */
    ASC_ECLOSED,      /* peer went away */
    ASC_EDENIED,      /* policy or auth refused */
    ASC_EUNSUPPORTED, /* valid but not supported here */
    ASC_ETIMEOUT,     /* a deadline passed */
    ASC_EUPSTREAM,    /* the upstream failed */
} asc_err_t;

const char *asc_err_name(asc_err_t e);

#endif
