/*
 * ship_backoff.c — the shipper's pure decisions: how long to wait before a retry, what a
 * Retry-After header asks for, and which HTTP statuses are worth retrying. No state, no I/O,
 * so the unit tests pin each rule down exactly (docs/AGENT-SHIP.md has the same table).
 */
#include <ctype.h>
#include <curl/curl.h>
#include <string.h>

#include "ship/ship.h"

int64_t lf_agent_ship_backoff_ms(int attempt, int64_t base, int64_t cap, uint64_t random)
{
    if (base <= 0 || cap <= 0)
        return 0;
    if (attempt < 0)
        attempt = 0;
    /* base * 2^attempt, stopping at cap before it can overflow. */
    int64_t ceiling = base < cap ? base : cap;
    for (int i = 0; i < attempt && ceiling < cap; i++)
        ceiling = ceiling > cap / 2 ? cap : ceiling * 2;
    /* Full jitter: uniform over [0, ceiling]. The modulo bias is below 2^-40 for any ceiling
     * we can be given and is irrelevant to spreading retries. */
    return (int64_t)(random % ((uint64_t)ceiling + 1));
}

int64_t lf_agent_ship_retry_after_ms(const char *value, int64_t now_unix_ms)
{
    if (value == NULL)
        return -1;
    while (*value == ' ' || *value == '\t')
        value++;
    size_t len = strlen(value);
    while (len > 0 && (value[len - 1] == ' ' || value[len - 1] == '\t'))
        len--;
    if (len == 0)
        return -1;
    if (isdigit((unsigned char)value[0])) {
        /* delay-seconds = 1*DIGIT. Anything after the digits makes it invalid, not a date. */
        int64_t seconds = 0;
        for (size_t i = 0; i < len; i++) {
            if (!isdigit((unsigned char)value[i]))
                return -1;
            if (seconds < INT64_C(1000000000000)) /* clamp: ~31,700 years is "forever" */
                seconds = seconds * 10 + (value[i] - '0');
        }
        return seconds * 1000;
    }
    /* An HTTP-date: IMF-fixdate, RFC 850 or asctime form. curl_getdate reads all three. */
    char date[64];
    if (len >= sizeof date)
        return -1;
    memcpy(date, value, len);
    date[len] = '\0';
    time_t when = curl_getdate(date, NULL);
    if (when == (time_t)-1)
        return -1;
    int64_t delta = (int64_t)when * 1000 - now_unix_ms;
    return delta > 0 ? delta : 0;
}

lf_agent_ship_verdict lf_agent_ship_classify(long status)
{
    if (status >= 200 && status <= 299)
        return LF_AGENT_SHIP_OK;
    switch (status) {
    case 401:
    case 403:
        /* A credential problem the operator fixes; dropping data for it would be worse. */
        return LF_AGENT_SHIP_RETRY_AUTH;
    case 404: /* logfluxd: the app does not exist yet, or the endpoint's path is wrong */
    case 408: /* request timeout */
    case 409: /* logfluxd: a request with this idempotency key is still being processed */
    case 425: /* too early */
    case 429: /* rate limited */
        return LF_AGENT_SHIP_RETRY;
    default:
        break;
    }
    if (status >= 400 && status <= 499)
        return LF_AGENT_SHIP_PERMANENT;
    /* 5xx (507 included: quota, fixed by retention or a larger quota), no answer at all, and
     * statuses we never expect (1xx, 3xx: redirects are not followed) are retried: none of
     * them says the body is wrong. */
    return LF_AGENT_SHIP_RETRY;
}

int64_t lf_agent_ship_next_delay_ms(int attempt, int64_t retry_after_ms,
                                    const lf_agent_ship_options *resolved, uint64_t random)
{
    int64_t delay = lf_agent_ship_backoff_ms(attempt, resolved->backoff_base_ms,
                                             resolved->backoff_max_ms, random);
    /* The server's Retry-After is a floor (it knows when it will have room), the backoff keeps
     * growing past it while the failures go on, and a proxy's absurd value cannot park us for
     * days: it is cut at retry_after_max_ms. */
    if (retry_after_ms > resolved->retry_after_max_ms)
        retry_after_ms = resolved->retry_after_max_ms;
    return retry_after_ms > delay ? retry_after_ms : delay;
}
