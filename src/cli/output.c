/*
 * output.c — decrypted entries as text, NDJSON or CSV.
 *
 * text: `<RFC3339> <LEVEL> <app> <source>: <message> k=v…` — one line per entry; control
 *       characters of the message are escaped so an entry cannot forge extra lines.
 * json: one JSON object per line (jansson does the escaping).
 * csv:  a header line, then RFC 4180 records (fields quoted when they hold , " CR or LF).
 * Every format carries the key id and sequence so a reader can point at the stored row.
 */
#include <stdlib.h>
#include <string.h>

#include "logflux/timefmt.h"
#include "rows.h"

const char *lfc_level_name(int level)
{
    static const char *const n[] = {"EMERG", "ALERT",  "CRIT", "ERROR",
                                    "WARN",  "NOTICE", "INFO", "DEBUG"};
    return level >= 1 && level <= 8 ? n[level - 1] : "-";
}

static const char *nz(const char *s)
{
    return s ? s : "";
}

char *lfc_entry_message(const lf_payload *p)
{
    lf_buf b = LF_BUF_INIT;
    switch (p->type) {
    case LF_ENTRY_LOG:
        lf_buf_append_str(&b, nz(p->log.message));
        break;
    case LF_ENTRY_METRIC:
        lf_buf_printf(&b, "%s=%.17g%s%s", nz(p->metric.name), p->metric.value,
                      p->metric.unit ? " " : "", nz(p->metric.unit));
        break;
    case LF_ENTRY_TRACE:
        lf_buf_printf(&b, "%s%s%s", nz(p->trace.name ? p->trace.name : p->trace.operation),
                      p->trace.has_duration ? " " : "", p->trace.has_duration ? "" : "");
        if (p->trace.has_duration)
            lf_buf_printf(&b, "%.3fms", p->trace.duration_ms);
        if (p->trace.status)
            lf_buf_printf(&b, " %s", p->trace.status);
        break;
    case LF_ENTRY_EVENT:
        lf_buf_append_str(&b, nz(p->event.event));
        break;
    case LF_ENTRY_AUDIT:
        lf_buf_printf(&b, "%s %s %s%s%s", nz(p->audit.actor), nz(p->audit.action),
                      nz(p->audit.resource), p->audit.outcome ? " " : "", nz(p->audit.outcome));
        break;
    default:
        lf_buf_printf(&b, "%s", nz(p->telemetry.device_id));
        for (size_t i = 0; i < p->telemetry.n_readings; i++)
            lf_buf_printf(&b, " %s=%.17g%s", nz(p->telemetry.readings[i].name),
                          p->telemetry.readings[i].value, nz(p->telemetry.readings[i].unit));
        break;
    }
    if (lf_buf_terminate(&b) != LF_OK) {
        lf_buf_free(&b);
        return NULL;
    }
    return (char *)b.data; /* lf_buf data is malloc'd */
}

char *lfc_entry_attributes_json(const lf_payload *p)
{
    json_t *o = json_object();
    for (size_t i = 0; o && i < p->n_attributes; i++)
        json_object_set_new(o, nz(p->attributes[i].key), json_string(nz(p->attributes[i].value)));
    char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    return s;
}

void lfc_printer_init(lfc_printer *pr, FILE *out, lfc_output format)
{
    memset(pr, 0, sizeof *pr);
    pr->out = out;
    pr->format = format;
}

lf_err lfc_csv_field(lf_buf *out, const char *s, lf_error *err)
{
    lf_err rc;
    if (strpbrk(s, ",\"\r\n") == NULL)
        rc = lf_buf_append_str(out, s);
    else {
        rc = lf_buf_append_u8(out, '"');
        for (const char *p = s; rc == LF_OK && *p; p++) {
            if (*p == '"')
                rc = lf_buf_append_u8(out, '"');
            if (rc == LF_OK)
                rc = lf_buf_append_u8(out, (uint8_t)*p);
        }
        if (rc == LF_OK)
            rc = lf_buf_append_u8(out, '"');
    }
    return rc == LF_OK ? LF_OK : lf_error_set(err, rc, "csv: out of memory");
}

/* Text mode: escape control characters (newlines included) so one entry is one line. */
static void append_escaped(lf_buf *b, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '\n')
            lf_buf_append_str(b, "\\n");
        else if (*p == '\r')
            lf_buf_append_str(b, "\\r");
        else if (*p == '\t')
            lf_buf_append_str(b, "\\t");
        else if (*p < 0x20 || *p == 0x7f)
            lf_buf_printf(b, "\\x%02x", *p);
        else
            lf_buf_append_u8(b, *p);
    }
}

static const char *type_name(int t)
{
    const char *n = lf_entry_type_name(t);
    return n ? n : "-";
}

lf_err lfc_printer_entry(lfc_printer *pr, const lfc_entry *e, lf_error *err)
{
    const lf_payload *p = e->p;
    const char *app = e->row ? e->row->app : "";
    const char *key_id = e->row ? e->row->key_id : "";
    uint64_t seq = e->row ? e->row->sequence : 0;
    char ts[LF_RFC3339_MAX];
    lf_rfc3339_format(p->ts_ns, ts);
    char *msg = lfc_entry_message(p);
    if (msg == NULL)
        return lf_error_set(err, LF_ERR_NOMEM, "out of memory");
    lf_buf line = LF_BUF_INIT;
    lf_err rc = LF_OK;
    if (pr->format == LFC_OUT_TEXT) {
        lf_buf_printf(&line, "%s %s %s %s: ", ts, lfc_level_name(p->level), app,
                      p->source ? p->source : "-");
        append_escaped(&line, msg);
        for (size_t i = 0; i < p->n_attributes; i++) {
            lf_buf_append_u8(&line, ' ');
            append_escaped(&line, nz(p->attributes[i].key));
            lf_buf_append_u8(&line, '=');
            append_escaped(&line, nz(p->attributes[i].value));
        }
        rc = lf_buf_append_u8(&line, '\n');
    } else if (pr->format == LFC_OUT_JSON) {
        json_t *attrs = json_object();
        for (size_t i = 0; attrs && i < p->n_attributes; i++)
            json_object_set_new(attrs, nz(p->attributes[i].key),
                                json_string(nz(p->attributes[i].value)));
        json_t *o = json_pack(
            "{s:s, s:i, s:s, s:s, s:s, s:s, s:o, s:s, s:I}", "ts", ts, "level", p->level, "type",
            type_name(p->type), "app", app, "source", nz(p->source), "message", msg, "attributes",
            attrs ? attrs : json_object(), "key_id", key_id, "sequence", (json_int_t)seq);
        char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
        json_decref(o);
        if (s == NULL)
            rc = LF_ERR_NOMEM;
        else {
            lf_buf_append_str(&line, s);
            rc = lf_buf_append_u8(&line, '\n');
            lf_wipe(s, strlen(s));
            free(s);
        }
    } else {
        if (!pr->header_done) {
            fputs("ts,level,type,app,source,message,attributes,key_id,sequence\r\n", pr->out);
            pr->header_done = true;
        }
        char *attrs = lfc_entry_attributes_json(p);
        char num[32];
        lf_buf_printf(&line, "%s,%s,%s,", ts, lfc_level_name(p->level), type_name(p->type));
        lfc_csv_field(&line, app, NULL);
        lf_buf_append_u8(&line, ',');
        lfc_csv_field(&line, nz(p->source), NULL);
        lf_buf_append_u8(&line, ',');
        lfc_csv_field(&line, msg, NULL);
        lf_buf_append_u8(&line, ',');
        lfc_csv_field(&line, attrs ? attrs : "{}", NULL);
        snprintf(num, sizeof num, "%llu", (unsigned long long)seq);
        lf_buf_printf(&line, ",%s,%s", key_id, num);
        rc = lf_buf_append_str(&line, "\r\n");
        free(attrs);
    }
    lf_wipe(msg, strlen(msg));
    free(msg);
    if (rc == LF_OK && fwrite(line.data, 1, line.len, pr->out) != line.len)
        rc = LF_ERR_IO;
    lf_buf_free_secret(&line);
    if (rc != LF_OK)
        return lf_error_set(err, rc, "output: %s", lf_strerror(rc));
    pr->printed++;
    return LF_OK;
}
