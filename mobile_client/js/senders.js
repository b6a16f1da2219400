// What each kind of outbox item does on the wire. Imported by the page and by the service worker,
// so Background Sync can send without a page open. Add a kind for a new offline write here.
import { registerSender } from "./outbox.js";
import { reports, feedback, staff, council, rounds, consultations } from "./api.js";

/**
 * A report: its photos first (each with its own Idempotency-Key, the id saved on the item as soon
 * as the server has the photo), then the report with the photo ids and the item's key.
 * payload: {jurisdiction, body, photos: [{blob, name, key, uploadedId}]}
 */
registerSender("report", async (item, save) => {
  const { jurisdiction, body, photos = [] } = item.payload;
  for (const photo of photos) {
    if (photo.uploadedId) continue;
    const uploaded = await reports.uploadPhoto(jurisdiction, photo.blob, photo.name, { idempotencyKey: photo.key });
    photo.uploadedId = uploaded.id;
    photo.blob = null; // the server has it; keep the queue small
    await save();
  }
  const report = await reports.submit(
    jurisdiction,
    { ...body, photo_ids: photos.map((p) => p.uploadedId) },
    item.idempotencyKey,
  );
  return { reportId: report.id, status: report.status };
});

/** "Me too" on a report. payload: {jurisdiction, reportId} */
registerSender("support", async (item) => {
  const { jurisdiction, reportId } = item.payload;
  const answer = await reports.support(jurisdiction, reportId, item.idempotencyKey);
  return { reportId, supporters: answer.supporters };
});

/** "Is it fixed?" answered while signed in. payload: {jurisdiction, requestId, answer} */
registerSender("satisfaction", async (item) => {
  const { jurisdiction, requestId, answer } = item.payload;
  try {
    const done = await feedback.answer(jurisdiction, requestId, answer, item.idempotencyKey);
    return { reportId: done.report_id, reopenRequestId: done.reopen_request_id };
  } catch (error) {
    if (error.code === "already-answered") return { alreadyAnswered: true };
    throw error;
  }
});

/**
 * A status change by field staff, made on the version they read: the after-photo first (its own key,
 * its id saved on the item), then the change with If-Match. A 412 (someone changed the report since)
 * fails the item: the report's screen shows what changed and offers to redo it on the new version.
 * payload: {jurisdiction, reportId, version, body, photo: {blob, name, key, uploadedId} | null, base}
 */
registerSender("transition", async (item, save) => {
  const { jurisdiction, reportId, version, body, photo } = item.payload;
  if (photo && !photo.uploadedId) {
    const uploaded = await staff.uploadAfterPhoto(jurisdiction, photo.blob, photo.name, { idempotencyKey: photo.key });
    photo.uploadedId = uploaded.id;
    photo.blob = null;
    await save();
  }
  const sent = { ...body, ...(photo ? { photo_id: photo.uploadedId } : {}) };
  const report = await staff.transition(jurisdiction, reportId, sent, version, item.idempotencyKey);
  return { reportId, status: report.status, version: report.version };
});

/** A duplicate merged into its master. payload: {jurisdiction, reportId, version, body, base} */
registerSender("merge", async (item) => {
  const { jurisdiction, reportId, version, body } = item.payload;
  const report = await staff.merge(jurisdiction, reportId, body, version, item.idempotencyKey);
  return { reportId, masterId: body.into_report_id, status: report.status, version: report.version };
});

/** A council member's vote on a motion (a PUT: the last one counts). payload: {jurisdiction, motionId, choice} */
registerSender("motion_vote", async (item) => {
  const { jurisdiction, motionId, choice } = item.payload;
  const cast = await council.vote(jurisdiction, motionId, choice);
  return { motionId, choice: cast.choice };
});

/**
 * An idea for a budget round, like a report: its photos first, then the idea with the item's key.
 * payload: {jurisdiction, roundId, body, photos: [{blob, name, key, uploadedId}]}
 */
registerSender("proposal", async (item, save) => {
  const { jurisdiction, roundId, body, photos = [] } = item.payload;
  for (const photo of photos) {
    if (photo.uploadedId) continue;
    const uploaded = await rounds.uploadPhoto(jurisdiction, photo.blob, photo.name, { idempotencyKey: photo.key });
    photo.uploadedId = uploaded.id;
    photo.blob = null;
    await save();
  }
  const proposal = await rounds.propose(
    jurisdiction,
    roundId,
    { ...body, photo_ids: photos.map((p) => p.uploadedId) },
    item.idempotencyKey,
  );
  return { roundId, proposalId: proposal.id, status: proposal.status };
});

/**
 * The answers to a consultation round (a resident's one response, replaced when changed).
 * payload: {jurisdiction, roundId, answers}. A refusal names its questions: `fields["question.<id>"]`.
 */
registerSender("response", async (item) => {
  const { jurisdiction, roundId, answers } = item.payload;
  try {
    const saved = await consultations.respond(jurisdiction, roundId, answers, item.idempotencyKey);
    return { roundId, updatedAt: saved.updated_at, replaced: saved.replaced };
  } catch (error) {
    for (const violation of error.problem?.violations || []) {
      error.fields[`question.${violation.question_id}`] = { message: violation.detail, type: violation.code };
    }
    throw error;
  }
});
