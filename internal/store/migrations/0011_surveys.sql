-- Surveys answered in the LINE chat (package survey). Times are unix ms.

-- A survey and its questions. The questions are one JSON document (ordered,
-- with skip logic and attribute mappings; see survey.Question): they are
-- read and written whole, and never edited once a survey has answers (a
-- copy is made instead), so answers always refer to the questions they
-- answered.
CREATE TABLE surveys (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    intro       TEXT NOT NULL DEFAULT '',
    thanks      TEXT NOT NULL DEFAULT '',
    answer_rule TEXT NOT NULL DEFAULT 'latest' CHECK (answer_rule IN ('first','latest')),
    status      TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft','open','closed')),
    questions   TEXT NOT NULL DEFAULT '[]',
    copied_from INTEGER REFERENCES surveys(id) ON DELETE SET NULL,
    created_by  TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_by  TEXT NOT NULL,
    updated_at  INTEGER NOT NULL
);

-- One run of a survey by a LINE user. At most one active or paused run per
-- user and survey; a user has at most one active run at a time (the one
-- whose text answers the hook takes).
CREATE TABLE survey_sessions (
    id           INTEGER PRIMARY KEY,
    survey_id    INTEGER NOT NULL REFERENCES surveys(id) ON DELETE CASCADE,
    line_user_id TEXT NOT NULL REFERENCES line_users(user_id) ON DELETE CASCADE,
    state        TEXT NOT NULL CHECK (state IN ('active','paused','completed','stopped')),
    question_id  TEXT NOT NULL DEFAULT '',          -- the question asked now
    selected     TEXT NOT NULL DEFAULT '[]',        -- multiple choice: choice IDs toggled on so far
    retries      INTEGER NOT NULL DEFAULT 0,        -- invalid text answers to the current question
    started_by   TEXT NOT NULL,                     -- staff:..., campaign, automation, customer
    started_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    completed_at INTEGER
);
CREATE UNIQUE INDEX survey_sessions_open ON survey_sessions(survey_id, line_user_id) WHERE state IN ('active','paused');
CREATE UNIQUE INDEX survey_sessions_active_user ON survey_sessions(line_user_id) WHERE state = 'active';
CREATE INDEX survey_sessions_by_survey ON survey_sessions(survey_id, state);

-- Opaque tokens carried by postback data: 16 random bytes, issued for one
-- user, session and question when the question is sent. A token is used
-- once; a postback with an unknown, used or stale token is counted in
-- survey_rejects and stores nothing.
CREATE TABLE survey_tokens (
    token        TEXT PRIMARY KEY,
    session_id   INTEGER NOT NULL REFERENCES survey_sessions(id) ON DELETE CASCADE,
    line_user_id TEXT NOT NULL,
    question_id  TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    used_at      INTEGER
) WITHOUT ROWID;
CREATE INDEX survey_tokens_by_session ON survey_tokens(session_id);

-- Start buttons of campaign cards: anyone who taps one starts the survey
-- (their own tokens are issued then). Random, so a start cannot be forged.
CREATE TABLE survey_start_tokens (
    token      TEXT PRIMARY KEY,
    survey_id  INTEGER NOT NULL REFERENCES surveys(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL
) WITHOUT ROWID;

-- Answers, one per respondent and question (the survey's answer rule says
-- whether a second answer replaces the first). A LINE answer is stored by
-- LINE user and resolved to the customer through customer_line_links when
-- read, so an unlinked friend's answers belong to the customer from the
-- moment of linking; staff and CSV entries name the customer (and, if the
-- customer is linked, the LINE user too, so the answer rule holds across
-- channels: one answer per question and respondent). attr_id and
-- attr_value are the answer's mapped customer attribute, already checked
-- against its type.
CREATE TABLE survey_answers (
    id           INTEGER PRIMARY KEY,
    survey_id    INTEGER NOT NULL REFERENCES surveys(id) ON DELETE CASCADE,
    question_id  TEXT NOT NULL,
    line_user_id TEXT REFERENCES line_users(user_id) ON DELETE CASCADE,
    customer_id  INTEGER REFERENCES customers(id) ON DELETE CASCADE,
    value        TEXT NOT NULL,                     -- canonical text; multiple choice: labels joined by newlines
    source       TEXT NOT NULL CHECK (source IN ('line','staff','csv')),
    answered_by  TEXT NOT NULL,                     -- audit actor (customer answers: system:survey)
    answered_at  INTEGER NOT NULL,
    attr_id      INTEGER REFERENCES attribute_defs(id) ON DELETE SET NULL,
    attr_value   TEXT NOT NULL DEFAULT '',
    CHECK (line_user_id IS NOT NULL OR customer_id IS NOT NULL)
);
CREATE UNIQUE INDEX survey_answers_line ON survey_answers(survey_id, question_id, line_user_id) WHERE line_user_id IS NOT NULL;
CREATE UNIQUE INDEX survey_answers_customer ON survey_answers(survey_id, question_id, customer_id) WHERE line_user_id IS NULL;
-- Covering for segment conditions: the answers of a question, by value,
-- with who gave them, are read from the index alone.
CREATE INDEX survey_answers_by_question ON survey_answers(survey_id, question_id, value, line_user_id, customer_id);
CREATE INDEX survey_answers_by_customer ON survey_answers(customer_id) WHERE customer_id IS NOT NULL;
CREATE INDEX survey_answers_by_user ON survey_answers(line_user_id) WHERE line_user_id IS NOT NULL;

-- Postbacks ignored: forged (unknown token or another user's), replayed
-- (token already used) or stale (question already answered, survey closed).
-- survey_id is NULL when the data names no known survey.
CREATE TABLE survey_rejects (
    id           INTEGER PRIMARY KEY,
    survey_id    INTEGER REFERENCES surveys(id) ON DELETE CASCADE,
    reason       TEXT NOT NULL CHECK (reason IN ('forged','replayed','stale')),
    at           INTEGER NOT NULL
);
CREATE INDEX survey_rejects_by_survey ON survey_rejects(survey_id, reason);

-- Mapped attributes of answers given before linking reach the customer when
-- the LINE user is linked, whichever way (code or staff): in the linking
-- transaction, which audits the link. The latest answer per attribute wins.
CREATE TRIGGER survey_answers_attach AFTER INSERT ON customer_line_links
BEGIN
    INSERT INTO customer_attributes (customer_id, attr_id, value)
    SELECT NEW.customer_id, a.attr_id, a.attr_value FROM survey_answers a
    WHERE a.line_user_id = NEW.line_user_id AND a.attr_id IS NOT NULL AND a.attr_value <> ''
      AND a.answered_at = (SELECT max(b.answered_at) FROM survey_answers b
                           WHERE b.line_user_id = a.line_user_id AND b.attr_id = a.attr_id AND b.attr_value <> '')
    GROUP BY a.attr_id
    ON CONFLICT (customer_id, attr_id) DO UPDATE SET value = excluded.value;
END;
