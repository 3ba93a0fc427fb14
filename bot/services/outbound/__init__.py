"""The outbound side: what the bot sends unprompted, split by job.

`planner` decides what is due for whom and enqueues it; `polling` reads calendar feeds and
enqueues prompts; `sending` sends due outbox rows through each platform's `Sender`, its
attachments made by `attachments` (charts drawn in `chart_pool`); `jobs.Jobs` composes
them over one database (`cpdbot tick`); `scheduler` runs them every minute under
APScheduler (`cpdbot run`).

Exactly once: a message is an outbox row with a unique (person, kind, key), so deciding
twice enqueues once; rows are claimed in small batches with a conditional UPDATE on the
database's clock, the claims renewed while the batch is sent and each re-checked under its
token just before its send, so two workers never both send one, whatever their clocks say;
a row is marked sent right after its send succeeds. A worker that dies between claim and
send leaves a claim that goes stale after `CLAIM_TIMEOUT` without renewal and is then
sent by the next run. The one window left is a crash (or a freeze past the timeout) after
a send began but before `sent` is written: that message is sent again (at-least-once at
the transport, exactly once in the record).
"""
