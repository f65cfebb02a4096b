/*
 * libFuzzer target: YAML text -> asc_config_load_text (parse, ${VAR}
 * expansion, validation). Must never crash, hang or leak, whatever the
 * bytes. Built by scripts/fuzz.sh with every src/ file except src/cmd/.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "config/yaml.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    /* A fixed environment, so that ${...} paths are reachable and every
     * run is reproducible. */
    setenv("ASC_FUZZ_SET", "http://127.0.0.1:1/v1", 1);
    setenv("ASC_FUZZ_EMPTY", "", 1);
    unsetenv("ASC_FUZZ_UNSET");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    asc_config_t *c = NULL;

    /* The tree on its own, printed back: exercises every node kind. */
    cJSON *root = asc_yaml_parse((const char *)data, size, err, sizeof err);
    if (root != NULL) {
        char *s = cJSON_PrintUnformatted(root);
        cJSON_free(s);
        cJSON_Delete(root);
    } else if (strlen(err) == 0) {
        abort(); /* a failure must always say why */
    }

    if (asc_config_load_text((const char *)data, size, "fuzz.yaml", &c, err, sizeof err) ==
        ASC_OK) {
        if (c == NULL)
            abort();
        for (size_t i = 0; i < c->nkeys; i++)
            for (size_t j = 0; j < c->keys[i].nmodels; j++)
                (void)asc_config_pattern_match(c->keys[i].models[j], "openai/gpt-4o");
        asc_config_free(c);
    } else if (c != NULL || strncmp(err, "fuzz.yaml: ", 11) != 0) {
        abort();
    }
    return 0;
}
