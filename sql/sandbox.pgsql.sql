-- mod_cnca_sandbox, the development and test identity gateway: its tables,
-- in the same database as sql/schema.pgsql.sql (mod_dbd's DBDParams), for
-- PostgreSQL (kept equivalent to sql/sandbox.sqlite.sql). Never load this
-- into a production database.

-- Sandbox persons: force a check's answer for an ID number (for sms-send: a
-- mobile). check_type is one message type or '*' for all; a row for the
-- exact type wins over '*'. behaviour:
--   pass   answer pass whatever the rules say (face-result: even without a
--          capture; sms-send is still stored)
--   fail   answer fail with the reason below or the type's default reason
--   error  answer error with the reason below or a default reason
--   late   wait CNCASandboxLateSeconds (default 10), then answer by the rules
-- reason_code must match [A-Za-z0-9_.:-]{1,64} and reason_text be at most
-- 500 characters (conf/gateway.xsd), or the module rejects the answer.
CREATE TABLE IF NOT EXISTS sandbox_person (
    subject     TEXT NOT NULL,
    check_type  TEXT NOT NULL DEFAULT '*'
                CHECK (check_type IN ('*', 'mobile-3e', 'bankcard-4e', 'sms-send',
                                      'face-start', 'face-result')),
    behaviour   TEXT NOT NULL CHECK (behaviour IN ('pass', 'fail', 'error', 'late')),
    reason_code TEXT,
    reason_text TEXT,
    PRIMARY KEY (subject, check_type)
);

-- Every sms-send, for GET /sandbox/sms and the inbox page. at: UTC,
-- "2025-01-31T08:00:00Z".
CREATE TABLE IF NOT EXISTS sandbox_sms (
    id      BIGSERIAL PRIMARY KEY,
    mobile  TEXT NOT NULL,
    text    TEXT NOT NULL,
    at      TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sandbox_sms_mobile ON sandbox_sms (mobile, id);

-- Face sessions made by face-start; status follows the last capture.
CREATE TABLE IF NOT EXISTS sandbox_face (
    token       TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    id_number   TEXT NOT NULL,
    return_url  TEXT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'pass', 'fail')),
    created_at  TEXT NOT NULL
);

-- Ready-made sandbox persons (valid GB 11643 ID numbers; any name works).
INSERT INTO sandbox_person (subject, check_type, behaviour, reason_code, reason_text) VALUES
    ('310101198001019012', 'face-result', 'fail', 'face-mismatch', '人脸比对不一致'),
    ('310101198001019020', '*', 'error', NULL, NULL),
    ('310101198001019039', 'mobile-3e', 'late', NULL, NULL),
    ('310101198001019047', 'bankcard-4e', 'fail', 'card-closed', '银行卡状态异常'),
    ('310101198001019055', 'mobile-3e', 'fail', NULL, NULL),
    ('13000000001', 'sms-send', 'error', 'sms-down', '短信通道故障')
ON CONFLICT (subject, check_type) DO NOTHING;
