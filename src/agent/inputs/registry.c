/*
 * registry.c — every input type the agent knows, by name (input.h). Listing a descriptor here
 * is what makes its type configurable.
 */
#include <string.h>

#include "input.h"
#include "ops/ops_http.h"
#include "inputs/docker/docker_input.h"
#include "inputs/file/file_input.h"
#include "inputs/journald/journald_input.h"
#include "inputs/kubernetes/kubernetes_input.h"
#include "inputs/socket/socket.h"
#include "inputs/stdin/stdin.h"
#include "inputs/syslog/syslog.h"

const lf_agent_input_type *const lf_agent_input_types[] = {
    &lf_agent_input_type_tail,       &lf_agent_input_type_nginx,    &lf_agent_input_type_docker,
    &lf_agent_input_type_kubernetes, &lf_agent_input_type_journald, &lf_agent_input_type_syslog,
    &lf_agent_input_type_socket,     &lf_agent_input_type_stdin,    NULL,
};

const lf_agent_input_type *lf_agent_input_type_find(const char *type)
{
    for (size_t i = 0; lf_agent_input_types[i]; i++)
        if (strcmp(lf_agent_input_types[i]->type, type) == 0)
            return lf_agent_input_types[i];
    return NULL;
}

void lf_agent_input_metric(lf_buf *out, const char *metric, const char *input, uint64_t value)
{
    const char *labels[] = {"input", input, NULL};
    (void)lf_agent_metric_u64(out, metric, labels, value); /* names and escaping checked there */
}
