#include <string.h>

#include "provider/adapter.h"

const asc_adapter_t *asc_adapter_for_kind(const char *kind)
{
    /* openai-compatible servers and the bundled mock speak OpenAI's wire
     * format; their differences (usage missing from streams) are handled by
     * the gateway's estimate, not by a separate table. */
    if (strcmp(kind, "openai") == 0 || strcmp(kind, "mock") == 0)
        return &asc_adapter_openai;
    /* Same wire format; differs in what it sends (max_tokens, which
     * self-hosted servers know, instead of max_completion_tokens). */
    if (strcmp(kind, "openai-compatible") == 0)
        return &asc_adapter_openai_compatible;
    if (strcmp(kind, "anthropic") == 0)
        return &asc_adapter_anthropic;
    if (strcmp(kind, "mistral") == 0)
        return &asc_adapter_mistral;
    return NULL;
}
