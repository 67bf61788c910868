/* Masked forms of personal numbers for pages and logs. Each takes the
 * normalised value (what cnca_validate_* gave); anything else (NULL, too
 * short or long, unexpected characters) gives the same shape all in stars,
 * so nothing of an odd value shows and nothing past its end is read. */
#ifndef CNCA_MASK_H
#define CNCA_MASK_H

#include <apr_pools.h>

/* "3101**********123X": the first 4 and last 4 of the 18; else 18 stars. */
const char *cnca_mask_id_number(apr_pool_t *p, const char *id);

/* "138****5678": the first 3 and last 4 of the 11 digits; else 11 stars. */
const char *cnca_mask_mobile(apr_pool_t *p, const char *mobile);

/* "**** **** **** 1234": the last 4 digits of a 12 to 19 digit card, in
 * groups that do not show its length; else "**** **** **** ****". */
const char *cnca_mask_bank_card(apr_pool_t *p, const char *card);

#endif
