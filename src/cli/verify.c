/*
 * verify.c — integrity analysis of a window of stored rows (see verify.h, docs/VERIFY.md).
 *
 * Three passes:
 *   1. open every row (lfc_row_open): authentic, failed authentication, authentic but
 *      self-contradicting, or no key;
 *   2. explain each failed native row by trial: rebuild its header with ONE field changed to a
 *      value it may have been sealed with and check the tag again. Candidates: every other app
 *      of the window and the key's own app (→ moved); the timestamps found in the row's own
 *      plaintext, decrypted without authentication only to read them (→ re-dated); the
 *      sequences its session lacks or another failed row of the session claims (→ reordered).
 *      Only a tag that verifies counts as an explanation, so every named cause is proven; a row
 *      nothing explains is reported as tampered;
 *   3. per native key id: sequences 0..n-1 each exactly once, in timestamp order, then a close
 *      marker with count n; per v3 key id: no record twice (v3 has no sequences, so gaps cannot
 *      be seen).
 * Plaintext only lives in memory during pass 1 and 2, and is wiped; nothing of it is reported.
 */
#include "verify.h"

#include <openssl/evp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "logflux/timefmt.h"
#include "logflux/v3.h"

static const char *const kind_names[LFC_V__COUNT] = {
    "missing",  "duplicated", "reordered",   "re-dated", "moved",
    "tampered", "truncated",  "after-close", "invalid",  "unverifiable",
};

const char *lfc_vkind_name(lfc_vkind k)
{
    return (unsigned)k < LFC_V__COUNT ? kind_names[k] : "?";
}

enum { ST_OK, ST_AUTH, ST_INVALID, ST_NOKEY, ST_SKIP };

typedef struct vrow {
    const lfc_row *r;
    int st;
    bool explained;     /* a trial proved the sealed values */
    uint64_t seq;       /* sealed sequence (stored one unless a trial proved otherwise) */
    uint32_t close_cnt; /* authentic close marker: its count */
} vrow;

static int add(lfc_vreport *rep, lfc_vkind kind, const char *key_id, bool has_seq, uint64_t seq,
               uint64_t seq_last, const lfc_row *row, const char *fmt, ...)
    __attribute__((format(printf, 8, 9)));
static int add(lfc_vreport *rep, lfc_vkind kind, const char *key_id, bool has_seq, uint64_t seq,
               uint64_t seq_last, const lfc_row *row, const char *fmt, ...)
{
    if (rep->n == rep->cap) {
        size_t cap = rep->cap ? rep->cap * 2 : 32;
        lfc_vproblem *p = realloc(rep->problems, cap * sizeof *p);
        if (p == NULL)
            return LFC_EXIT_ERROR;
        rep->problems = p;
        rep->cap = cap;
    }
    lfc_vproblem *p = &rep->problems[rep->n++];
    memset(p, 0, sizeof *p);
    p->kind = kind;
    snprintf(p->key_id, sizeof p->key_id, "%s", key_id);
    p->has_seq = has_seq;
    p->seq = seq;
    p->seq_last = seq_last;
    p->file_id = row ? row->file_id : -1;
    p->row = row ? row->row : -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->detail, sizeof p->detail, fmt, ap);
    va_end(ap);
    rep->counts[kind]++;
    return LFC_EXIT_OK;
}

/* ---------------- trial openings ---------------- */

typedef struct trial {
    const char *app; /* NULL = stored */
    bool set_ts;
    int64_t ts_min, ts_max;
    bool set_seq;
    uint64_t seq;
} trial;

/* The header the row's columns describe, even when those columns break a header rule (a
 * tampered ts > ts_max, an app with a bad character): the header is first built from a copy
 * with rule-abiding stand-ins and then given the stored values back; encoding re-checks. */
static bool base_header(const lfc_row *row, lf_native_header *h)
{
    lfc_row tmp = *row; /* shallow: the buffers stay the row's */
    tmp.ts = tmp.ts_max = 0;
    tmp.sequence = row->kind == LF_NATIVE_CLOSE ? row->count : 0;
    snprintf(tmp.app, sizeof tmp.app, "a");
    if (lfc_row_native_header(&tmp, h, NULL, NULL) != LF_OK)
        return false;
    h->ts_min = row->ts;
    h->ts_max = row->ts_max;
    h->sequence = row->sequence;
    snprintf(h->app, sizeof h->app, "%s", row->app);
    return true;
}

static bool try_open(lfc_keyring *k, const lfc_row *row, const trial *t)
{
    lf_native_header h;
    lf_buf hb = LF_BUF_INIT;
    lf_native_opener *o = NULL;
    lf_native_opened op = {0};
    bool ok = false;
    if (!base_header(row, &h))
        return false;
    if (t->app) {
        if (strlen(t->app) >= sizeof h.app)
            return false;
        snprintf(h.app, sizeof h.app, "%s", t->app);
    }
    if (t->set_ts) {
        h.ts_min = t->ts_min;
        h.ts_max = t->ts_max;
    }
    if (t->set_seq)
        h.sequence = t->seq;
    if (lf_native_header_encode(&h, &hb, NULL) == LF_OK &&
        lfc_keyring_native_opener(k, row->key_id, &o) == LFC_EXIT_OK)
        ok = lf_native_open_parts(o, &h, hb.data, hb.len, row->ciphertext.data, row->ciphertext.len,
                                  &op, NULL) == LF_OK;
    lf_native_opened_free(&op);
    lf_buf_free(&hb);
    return ok;
}

static bool json_ts(const uint8_t *p, size_t n, int64_t *ts)
{
    json_t *j = json_loadb((const char *)p, n, 0, NULL);
    const char *s = j ? json_string_value(json_object_get(j, "ts")) : NULL;
    bool ok = s && lf_rfc3339_parse(s, strlen(s), ts, NULL) == LF_OK;
    json_decref(j);
    return ok;
}

/* The timestamps a native entry/block row's plaintext carries, read WITHOUT authentication
 * (AES-CTR with the GCM counter that follows J0 = nonce || 1): only to form a candidate
 * header; the candidate counts only if the tag then verifies. */
static bool content_ts(lfc_keyring *k, const lfc_row *row, int64_t *mn, int64_t *mx)
{
    const uint8_t *sk = NULL;
    lf_native_header h;
    if (!base_header(row, &h) || lfc_keyring_get(k, row->key_id, &sk) != LFC_EXIT_OK ||
        row->ciphertext.len <= 16)
        return false;
    uint8_t enc[LF_AES_KEY_LEN];
    if (lf_native_derive_keys(sk, h.key_id, enc, NULL, NULL) != LF_OK)
        return false;
    size_t ct_len = row->ciphertext.len - 16;
    uint8_t *pt = malloc(ct_len);
    uint8_t iv[16];
    memcpy(iv, h.nonce, 12);
    iv[12] = iv[13] = iv[14] = 0;
    iv[15] = 2;
    EVP_CIPHER_CTX *cx = EVP_CIPHER_CTX_new();
    int outl = 0, fin = 0;
    bool ok = pt && cx && EVP_DecryptInit_ex(cx, EVP_aes_256_ctr(), NULL, enc, iv) == 1 &&
              EVP_DecryptUpdate(cx, pt, &outl, row->ciphertext.data, (int)ct_len) == 1 &&
              EVP_DecryptFinal_ex(cx, pt + outl, &fin) == 1;
    EVP_CIPHER_CTX_free(cx);
    lf_wipe(enc, sizeof enc);
    uint8_t *plain = pt;
    size_t plain_len = ct_len;
    uint8_t *inflated = NULL;
    if (ok && (h.flags & LF_NATIVE_FLAG_ZSTD)) {
        unsigned long long sz = ZSTD_getFrameContentSize(pt, ct_len);
        ok = sz != ZSTD_CONTENTSIZE_ERROR && sz != ZSTD_CONTENTSIZE_UNKNOWN && sz > 0 &&
             sz <= LF_NATIVE_INFLATE_MAX && (inflated = malloc((size_t)sz)) != NULL;
        if (ok) {
            size_t got = ZSTD_decompress(inflated, (size_t)sz, pt, ct_len);
            ok = !ZSTD_isError(got) && got == sz;
            plain = inflated;
            plain_len = (size_t)sz;
        }
    }
    *mn = INT64_MAX;
    *mx = INT64_MIN;
    size_t n = 0;
    if (ok && h.kind == LF_NATIVE_ENTRY) {
        int64_t t;
        if ((ok = json_ts(plain, plain_len, &t)))
            *mn = *mx = t, n = 1;
    } else if (ok && h.kind == LF_NATIVE_BLOCK) {
        size_t off = 0;
        while (ok && off + 4 <= plain_len && n < LF_NATIVE_BLOCK_COUNT_MAX) {
            size_t len = (size_t)plain[off] << 24 | (size_t)plain[off + 1] << 16 |
                         (size_t)plain[off + 2] << 8 | plain[off + 3];
            off += 4;
            int64_t t;
            if (len > plain_len - off || !json_ts(plain + off, len, &t)) {
                ok = false;
                break;
            }
            *mn = t < *mn ? t : *mn;
            *mx = t > *mx ? t : *mx;
            off += len;
            n++;
        }
        ok = ok && n > 0;
    } else {
        ok = false;
    }
    if (inflated) {
        lf_wipe(inflated, plain_len);
        free(inflated);
    }
    if (pt) {
        lf_wipe(pt, ct_len);
        free(pt);
    }
    return ok;
}

/* The key's own app and creation time from GET /v1/keys/{id} (hints; failures ignored). */
static void key_info(lfc_ctx *c, const char *key_id, char *app, size_t cap, int64_t *created_ns)
{
    app[0] = '\0';
    *created_ns = INT64_MIN;
    if (c == NULL)
        return;
    char path[128];
    snprintf(path, sizeof path, "/v1/keys/%s", key_id);
    lfc_reply rep = {0};
    if (lfc_http_json(c, "GET", path, NULL, &rep) == LFC_EXIT_OK && rep.status == 200 && rep.json) {
        json_t *d = json_object_get(rep.json, "data");
        if (!json_is_object(d))
            d = rep.json;
        const char *a = json_string_value(json_object_get(d, "app"));
        if (a)
            snprintf(app, cap, "%s", a);
        json_t *cr = json_object_get(d, "created");
        if (json_is_integer(cr) && json_integer_value(cr) > 0 &&
            json_integer_value(cr) < INT64_MAX / 1000000000)
            *created_ns = (int64_t)json_integer_value(cr) * 1000000000;
    }
    lfc_reply_free(&rep);
}

/* ---------------- the analysis ---------------- */

static int cmp_vrow(const void *a, const void *b)
{
    const vrow *x = a, *y = b;
    int c = strcmp(x->r->key_id, y->r->key_id);
    if (c)
        return c;
    if (x->r->format != y->r->format)
        return x->r->format < y->r->format ? -1 : 1;
    /* close markers after the records */
    int xc = x->r->kind == LF_NATIVE_CLOSE, yc = y->r->kind == LF_NATIVE_CLOSE;
    if (xc != yc)
        return xc - yc;
    if (x->seq != y->seq)
        return x->seq < y->seq ? -1 : 1;
    /* for one sequence, the authentic (or explained) record first: a copy after it is the
     * duplicate, an unexplained failed row is reported on its own */
    int xa = x->st == ST_OK || x->explained, ya = y->st == ST_OK || y->explained;
    if (xa != ya)
        return ya - xa;
    if (x->r->ts != y->r->ts)
        return x->r->ts < y->r->ts ? -1 : 1;
    if (x->r->file_id != y->r->file_id)
        return x->r->file_id < y->r->file_id ? -1 : 1;
    return x->r->row < y->r->row ? -1 : x->r->row > y->r->row;
}

static bool same_record(const lfc_row *a, const lfc_row *b)
{
    return a->nonce.len == b->nonce.len && a->ciphertext.len == b->ciphertext.len &&
           memcmp(a->nonce.data, b->nonce.data, a->nonce.len) == 0 &&
           memcmp(a->ciphertext.data, b->ciphertext.data, a->ciphertext.len) == 0;
}

#define MAX_TRIALS 256

/* Pass 2 for the native rows [lo, hi) of one key. */
#define MAX_APPS 64

static int explain(lfc_keyring *k, vrow *v, size_t lo, size_t hi, const char *const *apps,
                   size_t napps, const char *key_app, lfc_vreport *rep)
{
    /* Sequences of authentic rows and the close count (for the candidate sequences). */
    uint64_t n = 0;
    bool closed = false;
    for (size_t i = lo; i < hi; i++)
        if (v[i].st == ST_OK && v[i].r->kind == LF_NATIVE_CLOSE)
            closed = true, n = v[i].close_cnt;
    if (!closed)
        for (size_t i = lo; i < hi; i++)
            if (v[i].r->kind != LF_NATIVE_CLOSE && v[i].r->sequence + 1 > n)
                n = v[i].r->sequence + 1;
    for (size_t i = lo; i < hi; i++) {
        if (v[i].st != ST_AUTH)
            continue;
        const lfc_row *r = v[i].r;
        bool done = false;
        if (r->kind != LF_NATIVE_CLOSE) {
            /* moved: another app of the window, or the key's own app */
            for (size_t j = 0; j <= napps && !done; j++) {
                const char *app = j < napps ? apps[j] : key_app;
                if (app == NULL || !*app || strcmp(app, r->app) == 0)
                    continue;
                if (j == napps) { /* the key's app, unless already tried */
                    bool seen = false;
                    for (size_t q = 0; q < napps && !seen; q++)
                        seen = strcmp(apps[q], app) == 0;
                    if (seen)
                        continue;
                }
                if (try_open(k, r, &(trial){.app = app})) {
                    done = true;
                    v[i].explained = true;
                    add(rep, LFC_V_MOVED, r->key_id, true, r->sequence, r->sequence, r,
                        "sealed for app %s, stored under app %s", app, r->app);
                }
            }
            /* re-dated: the timestamps the plaintext carries */
            int64_t mn, mx;
            if (!done && content_ts(k, r, &mn, &mx) && (mn != r->ts || mx != r->ts_max) &&
                try_open(k, r, &(trial){.set_ts = true, .ts_min = mn, .ts_max = mx})) {
                done = true;
                v[i].explained = true;
                char a[LF_RFC3339_MAX], b[LF_RFC3339_MAX];
                lf_rfc3339_format(mn, a);
                lf_rfc3339_format(r->ts, b);
                add(rep, LFC_V_REDATED, r->key_id, true, r->sequence, r->sequence, r,
                    "sealed at %s, stored as %s", a, b);
            }
            /* reordered: a sequence the session lacks or another failed row claims */
            size_t trials = 0;
            for (size_t j = lo; j < hi && !done && trials < MAX_TRIALS; j++) {
                if (j == i || v[j].st != ST_AUTH || v[j].r->kind == LF_NATIVE_CLOSE ||
                    v[j].r->sequence == r->sequence)
                    continue;
                trials++;
                if (try_open(k, r, &(trial){.set_seq = true, .seq = v[j].r->sequence})) {
                    done = true;
                    v[i].explained = true;
                    v[i].seq = v[j].r->sequence;
                }
            }
            for (uint64_t s = 0; s < n && !done && trials < MAX_TRIALS; s++) {
                bool have = false;
                for (size_t j = lo; j < hi && !have; j++)
                    have = v[j].r->kind != LF_NATIVE_CLOSE && v[j].r->sequence == s;
                if (have)
                    continue;
                trials++;
                if (try_open(k, r, &(trial){.set_seq = true, .seq = s})) {
                    done = true;
                    v[i].explained = true;
                    v[i].seq = s;
                }
            }
            if (done && v[i].seq != r->sequence)
                add(rep, LFC_V_REORDERED, r->key_id, true, v[i].seq, v[i].seq, r,
                    "sealed as sequence %llu, stored as sequence %llu",
                    (unsigned long long)v[i].seq, (unsigned long long)r->sequence);
        }
        if (!done)
            add(rep, LFC_V_TAMPERED, r->key_id, true, r->sequence, r->sequence, r,
                "authentication failed: the ciphertext, its tag or several header fields were "
                "changed (no single header field explains it)");
    }
    return LFC_EXIT_OK;
}

/* Pass 3 for the native rows [lo, hi) of one key (sorted by sealed sequence). */
static void sequences(vrow *v, size_t lo, size_t hi, const lfc_verify_options *o,
                      int64_t created_ns, lfc_vreport *rep)
{
    const char *key = v[lo].r->key_id;
    const vrow *close = NULL;
    bool closed = false;
    uint64_t n = 0, maxseq = 0;
    bool any = false;
    int64_t first_ts = INT64_MAX;
    for (size_t i = lo; i < hi; i++) {
        const vrow *x = &v[i];
        if (x->r->kind == LF_NATIVE_CLOSE) {
            if (x->st != ST_OK)
                continue;
            if (close == NULL) {
                close = x;
                closed = true;
                n = x->close_cnt;
            } else {
                add(rep, LFC_V_DUPLICATED, key, true, x->close_cnt, x->close_cnt, x->r,
                    "%s close marker",
                    same_record(close->r, x->r) ? "a second copy of the" : "another");
            }
            continue;
        }
        if (x->st == ST_NOKEY)
            continue;
        any = true;
        maxseq = x->seq > maxseq ? x->seq : maxseq;
        if (x->r->ts < first_ts)
            first_ts = x->r->ts;
    }
    rep->sessions++;
    if (closed)
        rep->closed++;
    else
        rep->open++;
    if (!closed) {
        if (o->require_closed)
            add(rep, LFC_V_TRUNCATED, key, any, any ? maxseq + 1 : 0, any ? maxseq + 1 : 0, NULL,
                "no close marker: the session was cut short after %s",
                any ? "the rows seen" : "nothing");
        n = any ? maxseq + 1 : 0;
    }
    /* Sequences before the first one seen are only required when the key was made inside
     * the window (its rows cannot predate it); otherwise the session may begin before it. */
    bool leading_required = created_ns != INT64_MIN && created_ns >= o->from;
    uint64_t expect = 0;
    const vrow *prev = NULL; /* previous authentic record (for timestamp order) */
    bool first = true;
    for (size_t i = lo; i < hi; i++) {
        const vrow *x = &v[i];
        if (x->r->kind == LF_NATIVE_CLOSE || x->st == ST_NOKEY)
            continue;
        /* rows that passed (or were explained) occupy their sealed sequence; an unexplained
         * tampered row occupies the stored one (already reported). */
        uint64_t s = x->seq;
        if (closed && s >= n) {
            if (x->st == ST_OK)
                add(rep, LFC_V_AFTER_CLOSE, key, true, s, s, x->r,
                    "sequence beyond the close marker's count %llu", (unsigned long long)n);
            continue;
        }
        if (s > expect) {
            if (first && !leading_required && expect == 0) {
                rep->unchecked_leading++;
            } else {
                add(rep, LFC_V_MISSING, key, true, expect, s - 1, NULL,
                    "%llu record(s) absent from the session", (unsigned long long)(s - expect));
            }
        } else if (s < expect) {
            /* the same sequence again */
            const vrow *y = &v[i - 1];
            if (x->st == ST_OK || x->explained)
                add(rep, LFC_V_DUPLICATED, key, true, s, s, x->r, "%s",
                    same_record(x->r, y->r) ? "an exact copy of a stored record"
                                            : "another record with the same sequence");
            continue;
        }
        first = false;
        expect = s + 1;
        if (x->st == ST_OK) {
            if (prev && prev->seq + 1 == s && x->r->ts < prev->r->ts)
                add(rep, LFC_V_REORDERED, key, true, s, s, x->r,
                    "sequence %llu is older than sequence %llu (authentic: sealed out of "
                    "timestamp order)",
                    (unsigned long long)s, (unsigned long long)prev->seq);
            prev = x;
        } else {
            prev = NULL;
        }
    }
    if (closed && expect < n)
        add(rep, LFC_V_MISSING, key, true, expect, n - 1, NULL,
            "%llu record(s) before the close marker absent (count %llu)",
            (unsigned long long)(n - expect), (unsigned long long)n);
}

int lfc_verify_rows(lfc_ctx *c, lfc_keyring *k, const lfc_rows *rows, const lfc_verify_options *o,
                    lfc_vreport *rep)
{
    memset(rep, 0, sizeof *rep);
    vrow *v = calloc(rows->n ? rows->n : 1, sizeof *v);
    if (v == NULL)
        return lfc_fail(LFC_EXIT_ERROR, "verify: no memory");
    lfc_opened op = {0};
    /* pass 1 */
    for (size_t i = 0; i < rows->n; i++) {
        const lfc_row *r = &rows->v[i];
        v[i].r = r;
        v[i].seq = r->sequence;
        rep->rows++;
        if (r->format == LFC_ROW_FORMAT_NATIVE)
            rep->native_rows++;
        else
            rep->v3_rows++;
        if (r->format == LFC_ROW_FORMAT_NATIVE && r->kind == LF_NATIVE_KEY) {
            rep->key_rows++;
            v[i].st = ST_SKIP;
            continue;
        }
        if (r->format == LFC_ROW_FORMAT_NATIVE && r->kind == LF_NATIVE_CLOSE)
            rep->close_rows++;
        if (r->format == LFC_ROW_FORMAT_V3 && r->flags == 3) {
            v[i].st = ST_SKIP; /* managed telemetry: not encrypted, nothing to authenticate */
            continue;
        }
        lf_error err = {0};
        int rc = lfc_row_open(k, r, &op, &err);
        if (rc == LFC_EXIT_OK) {
            v[i].st = ST_OK;
            if (op.is_close)
                v[i].close_cnt = op.close_count;
        } else if (rc == LFC_EXIT_TAMPERED) {
            /* A native row whose columns cannot form a valid header was changed in storage
             * (authentic headers always are valid): treat it as failing authentication. */
            lf_native_header hh;
            bool bad_header = r->format == LFC_ROW_FORMAT_NATIVE &&
                              lfc_row_native_header(r, &hh, NULL, NULL) != LF_OK;
            v[i].st = err.code == LF_ERR_AUTH || err.code == LF_ERR_TRUNCATED || bad_header
                          ? ST_AUTH
                          : ST_INVALID;
        } else {
            v[i].st = ST_NOKEY;
            if (rep->key_exit == 0)
                rep->key_exit = rc;
            add(rep, LFC_V_UNVERIFIABLE, r->key_id, r->format == LFC_ROW_FORMAT_NATIVE, r->sequence,
                r->sequence, r, "the session key could not be obtained");
        }
    }
    lfc_opened_free(&op);
    /* the distinct apps of the window: candidates for a moved row's sealed app */
    const char *apps[MAX_APPS];
    size_t napps = 0;
    for (size_t i = 0; i < rows->n && napps < MAX_APPS; i++) {
        bool seen = false;
        for (size_t q = 0; q < napps && !seen; q++)
            seen = strcmp(apps[q], rows->v[i].app) == 0;
        if (!seen)
            apps[napps++] = rows->v[i].app;
    }
    /* group by key id */
    qsort(v, rows->n, sizeof *v, cmp_vrow);
    for (size_t lo = 0; lo < rows->n;) {
        size_t hi = lo + 1;
        while (hi < rows->n && strcmp(v[hi].r->key_id, v[lo].r->key_id) == 0 &&
               v[hi].r->format == v[lo].r->format)
            hi++;
        const lfc_row *r0 = v[lo].r;
        bool native = r0->format == LFC_ROW_FORMAT_NATIVE;
        bool has_records = false;
        for (size_t i = lo; i < hi; i++)
            has_records |= v[i].st != ST_SKIP;
        if (!has_records) {
            lo = hi;
            continue;
        }
        if (native) {
            char key_app[LF_NATIVE_APP_MAX + 1];
            int64_t created = INT64_MIN;
            key_info(c, r0->key_id, key_app, sizeof key_app, &created);
            explain(k, v, lo, hi, apps, napps, key_app, rep);
            for (size_t i = lo; i < hi; i++)
                if (v[i].st == ST_INVALID)
                    add(rep, LFC_V_INVALID, v[i].r->key_id, true, v[i].r->sequence,
                        v[i].r->sequence, v[i].r,
                        "authentic, but its content disagrees with its header (count or "
                        "timestamps): a sender fault");
            qsort(v + lo, hi - lo, sizeof *v, cmp_vrow); /* sealed sequences may differ now */
            sequences(v, lo, hi, o, created, rep);
        } else {
            rep->v3_keys++;
            for (size_t i = lo; i < hi; i++) {
                const lfc_row *r = v[i].r;
                if (v[i].st == ST_AUTH)
                    add(rep, LFC_V_TAMPERED, r->key_id, false, 0, 0, r,
                        "authentication failed: ciphertext or tag changed (v3 rows "
                        "authenticate nothing else)");
                else if (v[i].st == ST_INVALID)
                    add(rep, LFC_V_REDATED, r->key_id, false, 0, 0, r,
                        "the entry's own timestamp lies outside the stored [ts, ts_max]: the "
                        "stored timestamp was changed (v3 rows do not authenticate it)");
                if (v[i].st != ST_OK)
                    continue;
                for (size_t j = lo; j < i; j++)
                    if (v[j].st == ST_OK && same_record(v[j].r, r)) {
                        add(rep, LFC_V_DUPLICATED, r->key_id, false, 0, 0, r,
                            "an exact copy of the record at %lld/%lld", (long long)v[j].r->file_id,
                            (long long)v[j].r->row);
                        break;
                    }
            }
        }
        lo = hi;
    }
    free(v);
    return LFC_EXIT_OK;
}

/* ---------------- the report ---------------- */

static size_t problem_total(const lfc_vreport *r)
{
    size_t n = 0;
    for (int i = 0; i < LFC_V__COUNT; i++)
        if (i != LFC_V_UNVERIFIABLE)
            n += r->counts[i];
    return n;
}

int lfc_vreport_exit(const lfc_vreport *r)
{
    if (problem_total(r) > 0)
        return LFC_EXIT_VERIFY;
    return r->key_exit ? r->key_exit : LFC_EXIT_OK;
}

static const char v3_note[] = "v3 rows carry no sequence numbers: missing v3 records cannot "
                              "be detected (only failed tags, changed timestamps and "
                              "duplicates)";

void lfc_vreport_print(const lfc_vreport *r, FILE *out, lfc_output format)
{
    if (format == LFC_OUT_JSON) {
        json_t *ps = json_array();
        for (size_t i = 0; i < r->n; i++) {
            const lfc_vproblem *p = &r->problems[i];
            json_t *o = json_pack("{s:s, s:s, s:s}", "kind", lfc_vkind_name(p->kind), "key_id",
                                  p->key_id, "detail", p->detail);
            if (o == NULL)
                continue;
            if (p->has_seq) {
                json_object_set_new(o, "sequence", json_integer((json_int_t)p->seq));
                json_object_set_new(o, "sequence_last", json_integer((json_int_t)p->seq_last));
            }
            if (p->file_id >= 0) {
                json_object_set_new(o, "file_id", json_integer(p->file_id));
                json_object_set_new(o, "row", json_integer(p->row));
            }
            json_array_append_new(ps, o);
        }
        json_t *counts = json_object();
        for (int i = 0; i < LFC_V__COUNT; i++)
            json_object_set_new(counts, kind_names[i], json_integer((json_int_t)r->counts[i]));
        json_t *doc = json_pack(
            "{s:b, s:o, s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o}, s:[s]}", "ok",
            problem_total(r) == 0 && r->key_exit == 0, "problems", ps, "summary", "rows",
            (json_int_t)r->rows, "native_rows", (json_int_t)r->native_rows, "v3_rows",
            (json_int_t)r->v3_rows, "key_rows", (json_int_t)r->key_rows, "close_rows",
            (json_int_t)r->close_rows, "sessions", (json_int_t)r->sessions, "closed_sessions",
            (json_int_t)r->closed, "open_sessions", (json_int_t)r->open, "v3_keys",
            (json_int_t)r->v3_keys, "sessions_begun_before_window",
            (json_int_t)r->unchecked_leading, "counts", counts, "notes", v3_note);
        if (doc) {
            char *s = json_dumps(doc, JSON_COMPACT);
            if (s)
                fprintf(out, "%s\n", s);
            free(s);
            json_decref(doc);
        }
        return;
    }
    for (size_t i = 0; i < r->n; i++) {
        const lfc_vproblem *p = &r->problems[i];
        fprintf(out, "%s: key %s", lfc_vkind_name(p->kind), p->key_id);
        if (p->has_seq) {
            if (p->seq_last != p->seq)
                fprintf(out, " seq %llu..%llu", (unsigned long long)p->seq,
                        (unsigned long long)p->seq_last);
            else
                fprintf(out, " seq %llu", (unsigned long long)p->seq);
        }
        if (p->file_id >= 0)
            fprintf(out, " at %lld/%lld", (long long)p->file_id, (long long)p->row);
        fprintf(out, ": %s\n", p->detail);
    }
    fprintf(out,
            "verified %zu rows (%zu native, %zu v3; %zu close markers, %zu key rows): %zu native "
            "sessions (%zu closed, %zu open), %zu v3 keys\n",
            r->rows, r->native_rows, r->v3_rows, r->close_rows, r->key_rows, r->sessions, r->closed,
            r->open, r->v3_keys);
    if (r->unchecked_leading)
        fprintf(out,
                "note: %zu session(s) began before the window; their earlier sequences were not "
                "checked\n",
                r->unchecked_leading);
    if (r->open && r->counts[LFC_V_TRUNCATED] == 0)
        fprintf(out,
                "note: %zu open session(s) without a close marker yet (use --require-closed to "
                "count them as truncated)\n",
                r->open);
    if (r->v3_rows)
        fprintf(out, "note: %s\n", v3_note);
    size_t total = problem_total(r);
    if (total == 0 && r->key_exit == 0) {
        fprintf(out, "OK: no problems found\n");
        return;
    }
    fprintf(out, "PROBLEMS: %zu", total);
    const char *sep = " (";
    for (int i = 0; i < LFC_V__COUNT; i++)
        if (r->counts[i]) {
            fprintf(out, "%s%s %zu", sep, kind_names[i], r->counts[i]);
            sep = ", ";
        }
    fprintf(out, "%s\n", *sep == ',' ? ")" : "");
}

void lfc_vreport_free(lfc_vreport *r)
{
    free(r->problems);
    memset(r, 0, sizeof *r);
}
