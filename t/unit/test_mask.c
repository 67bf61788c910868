/* Unit tests for cnca_mask.c: the masked forms, and all stars for anything
 * that is not a normalised value. The odd inputs are copied into buffers of
 * their exact size so a run under a memory checker sees any over-read. */
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "tap.h"
#include "cnca_mask.h"

typedef const char *mask_fn(apr_pool_t *p, const char *in);

static void masks(mask_fn *fn, const char *in, const char *want, const char *what)
{
    apr_pool_t *p = tap_pool();
    char *exact = NULL;

    if (in) {
        apr_size_t len = strlen(in) + 1;
        exact = malloc(len);
        memcpy(exact, in, len);
    }
    is_str(fn(p, exact), want, what);
    free(exact);
}

#define ID_STARS "******************"
#define MOBILE_STARS "***********"
#define CARD_STARS "**** **** **** ****"

static void test_id_number(void)
{
    masks(cnca_mask_id_number, "31010119900307123X", "3101**********123X", "ID number with X");
    masks(cnca_mask_id_number, "310101199003071230", "3101**********1230", "ID number, digits");
    masks(cnca_mask_id_number, "31010119900307123x", "3101**********123X", "lowercase x");
    masks(cnca_mask_id_number, NULL, ID_STARS, "NULL ID number");
    masks(cnca_mask_id_number, "", ID_STARS, "empty ID number");
    masks(cnca_mask_id_number, "3101", ID_STARS, "4 characters");
    masks(cnca_mask_id_number, "31010119900307123", ID_STARS, "17 characters");
    masks(cnca_mask_id_number, "31010119900307123X1", ID_STARS, "19 characters");
    masks(cnca_mask_id_number, "3101011990030712X3", ID_STARS, "X not last");
    masks(cnca_mask_id_number, "ABCDEFGHIJKLMNOPQR", ID_STARS, "letters");
    masks(cnca_mask_id_number, "3101 011990 0307123X", ID_STARS, "not normalised");
    masks(cnca_mask_id_number, "刘刘刘刘刘刘", ID_STARS, "18 bytes of UTF-8");
}

static void test_mobile(void)
{
    masks(cnca_mask_mobile, "13812345678", "138****5678", "mobile");
    masks(cnca_mask_mobile, NULL, MOBILE_STARS, "NULL mobile");
    masks(cnca_mask_mobile, "", MOBILE_STARS, "empty mobile");
    masks(cnca_mask_mobile, "138", MOBILE_STARS, "3 digits");
    masks(cnca_mask_mobile, "1381234567", MOBILE_STARS, "10 digits");
    masks(cnca_mask_mobile, "138123456789", MOBILE_STARS, "12 digits");
    masks(cnca_mask_mobile, "138-1234-5678", MOBILE_STARS, "not normalised");
    masks(cnca_mask_mobile, "1381234567X", MOBILE_STARS, "letter");
}

static void test_bank_card(void)
{
    masks(cnca_mask_bank_card, "4111111111111111", "**** **** **** 1111", "16 digits");
    masks(cnca_mask_bank_card, "622848123452", "**** **** **** 3452", "12 digits");
    masks(cnca_mask_bank_card, "6228481234567890128", "**** **** **** 0128", "19 digits");
    masks(cnca_mask_bank_card, NULL, CARD_STARS, "NULL card");
    masks(cnca_mask_bank_card, "", CARD_STARS, "empty card");
    masks(cnca_mask_bank_card, "1234", CARD_STARS, "4 digits");
    masks(cnca_mask_bank_card, "62284812344", CARD_STARS, "11 digits");
    masks(cnca_mask_bank_card, "62220212345678901234", CARD_STARS, "20 digits");
    masks(cnca_mask_bank_card, "4111 1111 1111 1111", CARD_STARS, "not normalised");
    masks(cnca_mask_bank_card, "411111111111111X", CARD_STARS, "letter");
}

/* A masked value is never the input, and a fresh mask does not change the
 * caller's string. */
static void test_input_untouched(void)
{
    apr_pool_t *p = tap_pool();
    char id[] = "31010119900307123X";
    const char *m = cnca_mask_id_number(p, id);

    ok(m != id, "mask is a new string");
    is_str(id, "31010119900307123X", "input unchanged");
}

int main(void)
{
    tap_diag("ID number");
    test_id_number();
    tap_diag("mobile");
    test_mobile();
    tap_diag("bank card");
    test_bank_card();
    tap_diag("input untouched");
    test_input_untouched();
    return tap_done();
}
