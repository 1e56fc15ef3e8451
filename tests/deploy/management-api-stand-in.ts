// A loopback stand-in for the parts of Supabase's Management API that `supabase functions deploy
// --use-api` calls, recording exactly what the CLI uploads: each function's files (written under
// `outDir/<slug>/`, by the path the CLI gives them) and its metadata part. The answers are the
// shapes the CLI 3.x expects (201 with a function object for each upload).
import { once } from "node:events";
import { mkdir, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { dirname, isAbsolute, join, normalize } from "node:path";

export interface UploadMetadata {
  entrypoint_path: string;
  import_map_path?: string;
  static_patterns?: string[];
  verify_jwt?: boolean;
  name?: string;
}

export interface Upload {
  slug: string;
  metadata: UploadMetadata;
  /** Uploaded paths, relative to the repository root as the CLI names them. */
  files: string[];
  /** Where this stand-in wrote them: the function's deployed tree. */
  dir: string;
}

export interface ManagementApiStandIn {
  url: string;
  uploads: Map<string, Upload>;
  /** `METHOD path` of every request, in order. */
  requests: string[];
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}

/** A relative path that stays inside the function's tree (the CLI never sends others). */
function safeRelative(path: string): string {
  const clean = normalize(path);
  if (isAbsolute(clean) || clean.startsWith("..")) throw new Error(`unsafe upload path ${path}`);
  return clean;
}

export async function startManagementApiStandIn(
  opts: { outDir: string; projectRef: string },
): Promise<ManagementApiStandIn> {
  const uploads = new Map<string, Upload>();
  const requests: string[] = [];
  const now = () => Date.now();

  async function deploy(url: URL, req: IncomingMessage, res: ServerResponse) {
    const slug = url.searchParams.get("slug") ?? "";
    const form = await new Request(url, {
      method: "POST",
      headers: { "content-type": req.headers["content-type"] ?? "" },
      // A copy over a plain ArrayBuffer: BodyInit does not take a Buffer, whose memory may be shared.
      body: new Uint8Array(await readBody(req)),
    }).formData();
    const dir = join(opts.outDir, slug);
    const files: string[] = [];
    let metadata: UploadMetadata | undefined;
    for (const [part, value] of form) {
      if (part === "metadata") metadata = JSON.parse(String(value));
      else if (part === "file" && value instanceof File) {
        const path = safeRelative(value.name);
        await mkdir(dirname(join(dir, path)), { recursive: true });
        await writeFile(join(dir, path), new Uint8Array(await value.arrayBuffer()));
        files.push(path);
      }
    }
    if (!metadata) return json(res, 400, { message: "metadata part missing" });
    uploads.set(slug, { slug, metadata, files, dir });
    json(res, 201, {
      id: crypto.randomUUID(),
      slug,
      name: metadata.name ?? slug,
      status: "ACTIVE",
      version: 1,
      created_at: now(),
      updated_at: now(),
      verify_jwt: metadata.verify_jwt,
      entrypoint_path: metadata.entrypoint_path,
      import_map_path: metadata.import_map_path,
    });
  }

  const project = `/v1/projects/${opts.projectRef}`;
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://stand-in");
    requests.push(`${req.method} ${url.pathname}`);
    const route = `${req.method} ${url.pathname}`;
    const handled = route === `POST ${project}/functions/deploy`
      ? deploy(url, req, res)
      : route === `PUT ${project}/functions`
      ? readBody(req).then((b) => json(res, 200, JSON.parse(b.toString() || "[]")))
      : route === `GET ${project}`
      ? Promise.resolve(json(res, 200, {
        id: opts.projectRef,
        ref: opts.projectRef,
        organization_id: "stand-in",
        name: "hlf-dynamics-sync",
        region: "eu-north-1",
        status: "ACTIVE_HEALTHY",
        created_at: new Date().toISOString(),
      }))
      : Promise.resolve(json(res, 404, { message: `no stand-in for ${route}` }));
    handled.catch((err) => json(res, 500, { message: String(err) }));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    uploads,
    requests,
    close: () => new Promise((done) => server.close(() => done())),
  };
}
