package main

// explanations is the part of docs/BENCHMARKS.md that says what each figure includes, and what
// the profiles showed.
const explanations = `## What each figure includes

- **Deploy size**: the bootstrap as tests/bench builds it (-tags lambda.norpc -trimpath -s -w,
  local toolchain), deflated into a zip as ` + "`task package`" + ` does.
- **Lambda cold start**: AWS's runtime interface emulator starts the bootstrap when the first event
  arrives; the figure is the first invocation's round trip (exec, Go runtime and package
  initialisation, vulscan's start, answering ` + "`GET /`" + ` from a Function URL event).
- **SCF cold start**: exec to ` + "`POST /runtime/init/ready`" + ` on a fake runtime API: settings,
  opening the SQLite audit store, the TCSS client.
- **One-shot**: ` + "`vulscan scan --LocalImageScanType ALL`" + ` from exec to exit: validation, the
  pending record, the signed call to a loopback TCSS emulator, the outcome record; the anchor makes
  the same signed call through the Go SDK's CommonClient and exits.
- **Warm latency**: the load generator (its own process) sends at a fixed rate whether or not
  earlier requests were answered, and measures each latency from its scheduled time.
- **Burst**: 500 requests at once against TCSS's 20 calls a second (the emulator in this process
  records every call); peak RSS is the server's VmHWM.
`
