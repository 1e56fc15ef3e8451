// The world both isolation suites check against: organisations A and B, chapters A1 and A2 in A and
// B1 in B, mentors onlyA1 (with a peer-mentor login), shared (in A1 and A2), onlyA2 and onlyB1, and
// a coordinator per chapter (optionally one of both A1 and A2).
import type postgres from "postgres";
import {
  addMembership,
  createChapter,
  createCoordinator,
  createListedMentor,
  createOrganisation,
  createUser,
} from "./factories.ts";

export type ChapterName = "A1" | "A2" | "B1";
export type Mentor = "onlyA1" | "shared" | "onlyA2" | "onlyB1";
export type Login = "mentorA1" | "coordA1" | "coordA2" | "coordB1" | "coordA1A2";

export const MENTORS: Mentor[] = ["onlyA1", "shared", "onlyA2", "onlyB1"];
export const CHAPTER_MEMBERS: Record<ChapterName, Mentor[]> = {
  A1: ["onlyA1", "shared"],
  A2: ["shared", "onlyA2"],
  B1: ["onlyB1"],
};

export interface IsolationWorld<L extends Login> {
  orgs: Record<"A" | "B", string>;
  chapters: Record<ChapterName, string>;
  mentors: Record<Mentor, string>;
  users: Record<L, string>;
}

export async function createIsolationWorld(
  sql: postgres.Sql,
  o: { coordinatorOfBoth: true },
): Promise<IsolationWorld<Login>>;
export async function createIsolationWorld(
  sql: postgres.Sql,
  o?: { coordinatorOfBoth?: false },
): Promise<IsolationWorld<Exclude<Login, "coordA1A2">>>;
export async function createIsolationWorld(
  sql: postgres.Sql,
  o: { coordinatorOfBoth?: boolean } = {},
): Promise<IsolationWorld<Login>> {
  const orgs = { A: (await createOrganisation(sql)).id, B: (await createOrganisation(sql)).id };
  const chapters = {
    A1: (await createChapter(sql, { organisationId: orgs.A })).id,
    A2: (await createChapter(sql, { organisationId: orgs.A })).id,
    B1: (await createChapter(sql, { organisationId: orgs.B })).id,
  };
  const mentorLogin = await createUser(sql);
  await addMembership(sql, { userId: mentorLogin.id, chapterId: chapters.A1, role: "peer_mentor" });
  const mentors = {} as Record<Mentor, string>;
  for (const mentor of MENTORS) {
    const chapterIds = (Object.keys(CHAPTER_MEMBERS) as ChapterName[])
      .filter((c) => CHAPTER_MEMBERS[c].includes(mentor)).map((c) => chapters[c]);
    const userId = mentor === "onlyA1" ? mentorLogin.id : undefined;
    mentors[mentor] = (await createListedMentor(sql, { chapterIds, userId })).mentorId;
  }
  const users = {
    mentorA1: mentorLogin.id,
    coordA1: (await createCoordinator(sql, [chapters.A1])).id,
    coordA2: (await createCoordinator(sql, [chapters.A2])).id,
    coordB1: (await createCoordinator(sql, [chapters.B1])).id,
  } as Record<Login, string>;
  if (o.coordinatorOfBoth) {
    users.coordA1A2 = (await createCoordinator(sql, [chapters.A1, chapters.A2])).id;
  }
  return { orgs, chapters, mentors, users };
}
