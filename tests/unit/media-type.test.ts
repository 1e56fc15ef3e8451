import { describe, expect, it } from "vitest";
import { isJsonContentType } from "../../shared/http/media-type.ts";

describe("isJsonContentType", () => {
  it.each([
    "application/json",
    "Application/JSON",
    "application/json; charset=utf-8",
    'application/json;charset="UTF-8"',
  ])("accepts %s", (header) => expect(isJsonContentType(header)).toBe(true));

  it.each([
    null,
    "",
    "text/plain",
    "application/jsonx",
    "application/json-patch+json",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "application/json; charset=latin1",
    "text/json",
  ])("refuses %s", (header) => expect(isJsonContentType(header)).toBe(false));
});
