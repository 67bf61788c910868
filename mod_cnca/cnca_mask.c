#include <string.h>

#include <apr_strings.h>

#include "cnca_mask.h"
#include "cnca_validate.h"

#define ID_STARS "******************"
#define MOBILE_STARS "***********"
#define CARD_STARS "**** **** **** ****"

/* The length of s if every byte is in [0-9] (or, as the last of exactly
 * `len`, one of x/X when allow_x); 0 otherwise. Reads no further than max + 1
 * bytes, stopping at the NUL. */
static apr_size_t digits_len(const char *s, apr_size_t max, int allow_x)
{
    apr_size_t n;

    if (!s) {
        return 0;
    }
    for (n = 0; s[n]; ++n) {
        char c = s[n];
        if (n == max) {
            return 0;
        }
        if (!(c >= '0' && c <= '9') &&
            !(allow_x && n == max - 1 && (c == 'X' || c == 'x') && !s[n + 1])) {
            return 0;
        }
    }
    return n;
}

const char *cnca_mask_id_number(apr_pool_t *p, const char *id)
{
    char *out;

    if (digits_len(id, CNCA_ID_NUMBER_LEN, 1) != CNCA_ID_NUMBER_LEN) {
        return ID_STARS;
    }
    out = apr_pstrdup(p, ID_STARS);
    memcpy(out, id, 4);
    memcpy(out + CNCA_ID_NUMBER_LEN - 4, id + CNCA_ID_NUMBER_LEN - 4, 4);
    if (out[CNCA_ID_NUMBER_LEN - 1] == 'x') {
        out[CNCA_ID_NUMBER_LEN - 1] = 'X';
    }
    return out;
}

const char *cnca_mask_mobile(apr_pool_t *p, const char *mobile)
{
    char *out;

    if (digits_len(mobile, CNCA_MOBILE_LEN, 0) != CNCA_MOBILE_LEN) {
        return MOBILE_STARS;
    }
    out = apr_pstrdup(p, MOBILE_STARS);
    memcpy(out, mobile, 3);
    memcpy(out + CNCA_MOBILE_LEN - 4, mobile + CNCA_MOBILE_LEN - 4, 4);
    return out;
}

const char *cnca_mask_bank_card(apr_pool_t *p, const char *card)
{
    apr_size_t n = digits_len(card, CNCA_BANK_CARD_MAX, 0);
    char *out;

    if (n < CNCA_BANK_CARD_MIN) {
        return CARD_STARS;
    }
    out = apr_pstrdup(p, CARD_STARS);
    memcpy(out + sizeof(CARD_STARS) - 1 - 4, card + n - 4, 4);
    return out;
}
