-- An initial or reset password is chosen by an administrator, who therefore
-- knows it: the staff member must replace it with their own at first
-- sign-in (auth refuses every other call until they do).
ALTER TABLE staff ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0;
