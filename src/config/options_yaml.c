/*
 * options_yaml.c — a flat configuration file: the YAML tree (options_tree.c) applied to one
 * option table, every key known to it.
 */
#include "options.h"

lf_err lf_options_load_yaml(const lf_option *table, size_t n, void *config, const char *path,
                            lf_error *err)
{
    lf_cfg_node *root = NULL;
    lf_err rc = lf_cfg_load_yaml(path, &root, err);
    if (rc == LF_OK)
        rc = lf_options_apply(table, n, config, root, path, NULL, NULL, NULL, err);
    lf_cfg_free(root);
    return rc;
}
