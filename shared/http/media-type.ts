// Content-Type checks for JSON endpoints: `application/json`, optionally with `charset=utf-8` (the
// body is decoded as strict UTF-8, so a declared other charset would be a lie we cannot honour).

/** True for `application/json` with no charset or charset utf-8, in any letter case. */
export function isJsonContentType(header: string | null | undefined): boolean {
  if (!header) return false;
  const [type, ...params] = header.split(";").map((part) => part.trim().toLowerCase());
  if (type !== "application/json") return false;
  return params.every((param) => {
    const [name, value] = param.split("=").map((s) => s.trim());
    return name !== "charset" || value?.replace(/^"|"$/g, "") === "utf-8";
  });
}
