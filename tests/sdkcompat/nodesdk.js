// Sends CreateVulScanTask through Tencent's official Node.js SDK (tencentcloud-sdk-nodejs-common)
// to the TCSS emulator and prints the outcome as one JSON line: {"ok":{...}} or {"error":{...}}.
//
// The SDK derives the signed service from the endpoint's first label and signs the host without
// its port, so it is pointed at the real endpoint name, tcss.tencentcloudapi.com, and an HTTP
// agent carries the connection to the emulator (EMULATOR_ADDR=host:port): the request is signed
// exactly as it would be for Tencent.
"use strict";
const http = require("http");
const net = require("net");
const { CommonClient } = require("tencentcloud-sdk-nodejs-common");

const [host, port] = splitHostPort(required("EMULATOR_ADDR"));
const agent = new http.Agent();
agent.createConnection = (_opts, cb) => net.createConnection({ host, port }, cb);

const client = new CommonClient("tcss.tencentcloudapi.com", "2020-11-01", {
  credential: {
    secretId: required("SECRET_ID"),
    secretKey: required("SECRET_KEY"),
    token: process.env.SESSION_TOKEN || undefined,
  },
  region: "ap-guangzhou",
  profile: { httpProfile: { protocol: "http://", agent, reqTimeout: 10 } },
});

client
  .request("CreateVulScanTask", { LocalImageScanType: "ALL", RegistryImageScanType: "ALL" })
  .then((res) => console.log(JSON.stringify({ ok: res })))
  .catch((err) => console.log(JSON.stringify({ error: { code: err.code, message: err.message, requestId: err.requestId } })));

function required(name) {
  const v = process.env[name];
  if (!v) {
    console.error(`nodesdk.js: ${name} is not set`);
    process.exit(2);
  }
  return v;
}

function splitHostPort(addr) {
  const i = addr.lastIndexOf(":");
  return [addr.slice(0, i), Number(addr.slice(i + 1))];
}
