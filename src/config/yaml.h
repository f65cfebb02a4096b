/*
 * YAML text -> cJSON tree, on libyaml's event parser.
 *
 * The tree is the one the admin API accepts as JSON, so that a config file
 * and an API call go through the same validator (src/config/config.h).
 * Only the part of YAML a config needs is accepted:
 *
 *  - mappings become objects, sequences become arrays;
 *  - quoted (single or double) and block (| or >) scalars are strings;
 *  - plain scalars resolve with the YAML 1.2 core schema: null, ~ and the
 *    empty scalar -> null; true/True/TRUE/false/False/FALSE -> bool;
 *    decimal, 0x hex and 0o octal integers and decimal floats -> number;
 *    anything else -> string. Integers beyond +-2^53 (the largest a double
 *    holds exactly), .inf and .nan are refused;
 *  - refused with an error: duplicate keys, keys that are not scalars,
 *    anchors and aliases (no billion-laughs), tags other than !!str, !!map,
 *    !!seq and "!", strings holding a NUL character, more than one
 *    document, nesting deeper than ASC_YAML_MAX_DEPTH collections, and
 *    input larger than ASC_YAML_MAX_BYTES.
 *
 * Depth is tracked on a fixed explicit stack: nothing recurses on the
 * input's nesting.
 */
#ifndef ASC_CONFIG_YAML_H
#define ASC_CONFIG_YAML_H

#include <stddef.h>

#include <cjson/cJSON.h>

#define ASC_YAML_MAX_DEPTH 64
#define ASC_YAML_MAX_BYTES ((size_t)4 * 1024 * 1024)

/*
 * Parse text[0..len) (it need not be NUL-terminated) into a new cJSON tree
 * owned by the caller (free with cJSON_Delete). An empty stream, or a
 * document holding only comments, yields a cJSON null.
 *
 * On failure returns NULL and writes a message into err (errlen bytes,
 * always NUL-terminated when errlen > 0) of the form
 * "line 12, column 5: duplicate key \"models\"" (1-based; the caller
 * prefixes the file name).
 */
cJSON *asc_yaml_parse(const char *text, size_t len, char *err, size_t errlen);

#endif
