/* The enrollment state machine (DESIGN.md): which facts a session has
 * proven, for which values, and what each step needs. Pure functions of the
 * session, so every rule is unit-tested without httpd. */
#ifndef CNCA_FLOW_H
#define CNCA_FLOW_H

#include "cnca_session.h"

/* Starts a flow for an identity: every earlier proof is void. */
void cnca_flow_start(cnca_session_t *sess, const char *flow, const char *name,
                     const char *id_number, const char *mobile);

/* Sets the flow's mobile; proofs bound to another mobile no longer count. */
void cnca_flow_set_mobile(cnca_session_t *sess, const char *mobile);

/* Ends the flow (after it completed or on logout). */
void cnca_flow_end(cnca_session_t *sess);

int cnca_flow_sms_proven(const cnca_session_t *sess);
int cnca_flow_identity_proven(const cnca_session_t *sess); /* carrier or bank, for the mobile */
int cnca_flow_face_proven(const cnca_session_t *sess, apr_int64_t now, int max_age);

/* Whether an SMS code may go to mobile now: the flow's own mobile, or, at
 * the bank step, the bank-reserved mobile the applicant types there. */
int cnca_flow_sms_allowed(const cnca_session_t *sess, const char *mobile, apr_int64_t now,
                          int face_max_age);

/* The page where the flow stands: index, apply-verify, bank, face, confirm,
 * me (one of API.md's `next` names). */
const char *cnca_flow_step(const cnca_session_t *sess, apr_int64_t now, int face_max_age);

/* NULL when the session may confirm (issue, or set the mobile) for mobile,
 * else the Chinese message saying which step comes first. */
const char *cnca_flow_confirm_refusal(const cnca_session_t *sess, const char *mobile,
                                      apr_int64_t now, int face_max_age);

#endif
