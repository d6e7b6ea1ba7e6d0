// A small in-memory SCIM server on SCIMMY + scimmy-routers (express), the npm peer of
// benches/scim_load.rs. Usage: node scimmy-server.js TOKEN
// Listens on 127.0.0.1 on an ephemeral port and prints `listening PORT` on stdout.
// Users and groups live in Maps; `userName eq` uses a Map index (cloudsso has one too);
// every other filter goes through SCIMMY's own Filter.match.
import express from "express";
import SCIMMY from "scimmy";
import SCIMMYRouters from "scimmy-routers";
import {randomUUID} from "node:crypto";

const token = process.argv[2] ?? "";
const users = new Map();
const byUserName = new Map();
const groups = new Map();

function userNameEq(filter) {
  // SCIMMY parses `userName eq "x"` into [{userName: ["eq", "x"]}].
  if (!Array.isArray(filter) || filter.length !== 1) return undefined;
  const keys = Object.keys(filter[0]);
  if (keys.length !== 1 || keys[0].toLowerCase() !== "username") return undefined;
  const expr = filter[0][keys[0]];
  if (!Array.isArray(expr) || expr[0] !== "eq" || typeof expr[1] !== "string") return undefined;
  return expr[1].toLowerCase();
}

function store(kind, map, resource, instance) {
  const now = new Date();
  if (resource.id) {
    const old = map.get(resource.id);
    if (!old) throw new SCIMMY.Types.Error(404, null, `Resource ${resource.id} not found`);
    const next = {...instance, id: old.id, meta: {...old.meta, lastModified: now}};
    if (kind === "User" && old.userName !== next.userName) {
      if (byUserName.has(next.userName.toLowerCase())) throw new SCIMMY.Types.Error(409, "uniqueness", "userName taken");
      byUserName.delete(old.userName.toLowerCase());
      byUserName.set(next.userName.toLowerCase(), next.id);
    }
    map.set(old.id, next);
    return next;
  }
  if (kind === "User" && byUserName.has(instance.userName.toLowerCase()))
    throw new SCIMMY.Types.Error(409, "uniqueness", "userName taken");
  const id = randomUUID();
  const next = {...instance, id, meta: {created: now, lastModified: now}};
  map.set(id, next);
  if (kind === "User") byUserName.set(instance.userName.toLowerCase(), id);
  return next;
}

function read(map, resource) {
  if (resource.id) {
    const found = map.get(resource.id);
    if (!found) throw new SCIMMY.Types.Error(404, null, `Resource ${resource.id} not found`);
    return found;
  }
  if (map === users) {
    const name = userNameEq(resource.filter);
    if (name !== undefined) {
      const id = byUserName.get(name);
      return id ? [users.get(id)] : [];
    }
  }
  const all = [...map.values()];
  return resource.filter ? resource.filter.match(all) : all;
}

function remove(kind, map, resource) {
  const old = map.get(resource.id);
  if (!old) throw new SCIMMY.Types.Error(404, null, `Resource ${resource.id} not found`);
  map.delete(resource.id);
  if (kind === "User") byUserName.delete(old.userName.toLowerCase());
}

SCIMMY.Resources.declare(SCIMMY.Resources.User)
  .ingress((resource, instance) => store("User", users, resource, instance))
  .egress((resource) => read(users, resource))
  .degress((resource) => remove("User", users, resource));
SCIMMY.Resources.declare(SCIMMY.Resources.Group)
  .ingress((resource, instance) => store("Group", groups, resource, instance))
  .egress((resource) => read(groups, resource))
  .degress((resource) => remove("Group", groups, resource));

const app = express();
app.use("/scim/v2", new SCIMMYRouters({
  type: "bearer",
  handler: (request) => {
    if (request.header("Authorization") !== `Bearer ${token}`) throw new Error("Authorization not detected!");
    return "bench";
  },
}));
const server = app.listen(0, "127.0.0.1", () => {
  console.log(`listening ${server.address().port}`);
});
server.keepAliveTimeout = 60000;
for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => process.exit(0));
