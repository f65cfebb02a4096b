#include <string.h>

#include "provider/adapter.h"

const asc_adapter_t *asc_adapter_for_kind(const char *kind)
{
    /* openai-compatible servers and the bundled mock speak OpenAI's wire
     * format; the differences (missing streamed usage) are handled by the
     * gateway's estimate, not by a separate table. */
    if (strcmp(kind, "openai") == 0 || strcmp(kind, "openai-compatible") == 0 ||
        strcmp(kind, "mock") == 0)
        return &asc_adapter_openai;
    return NULL;
}
