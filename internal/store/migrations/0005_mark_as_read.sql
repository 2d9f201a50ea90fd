-- LINE's read token (message.markAsReadToken of a message event, since November 2025). Marking
-- it read on LINE shows 既読 for that message and every earlier one on the customer's phone.
-- Kept with the incoming message until the conversation is marked read on LINE (then cleared).
ALTER TABLE messages ADD COLUMN mark_as_read_token TEXT;
