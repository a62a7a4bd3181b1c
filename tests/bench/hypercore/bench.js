// bench.js: Hypercore's replication rate between two processes, for comparison
// with bench-sync (not run by ctest). The writer appends RECORDS records of
// BYTES bytes (100,000 of 500) to a core on disk, then serves it on loopback;
// a reader process replicates it all into a core of its own on disk. Prints
// "name: value" lines: hypercore.entries_per_s (from the reader's connect to
// its last block), hypercore.reader_peak_rss_mb (its VmHWM), and
// hypercore.reader_cpu_s. Usage: npm install; node bench.js
'use strict'
const Hypercore = require('hypercore')
const net = require('net')
const fs = require('fs')
const os = require('os')
const path = require('path')
const { fork } = require('child_process')

const RECORDS = Number(process.env.RECORDS || 100000)
const BYTES = Number(process.env.BYTES || 500)

function peakRss () {
  const m = fs.readFileSync('/proc/self/status', 'utf8').match(/VmHWM:\s+(\d+)/)
  return m ? Number(m[1]) / 1024 : NaN
}

async function writer (dir) {
  const core = new Hypercore(path.join(dir, 'writer'))
  await core.ready()
  const batch = []
  for (let i = 0; i < RECORDS; i++) {
    const b = Buffer.alloc(BYTES, 97 + (i % 26))
    b.write(String(i))
    batch.push(b)
    if (batch.length === 1000) await core.append(batch.splice(0))
  }
  if (batch.length) await core.append(batch.splice(0))
  const server = net.createServer(socket => {
    const s = core.replicate(false)
    socket.pipe(s).pipe(socket)
    socket.on('error', () => {})
    s.on('error', () => {})
  })
  server.listen(0, '127.0.0.1', () => {
    process.send({ key: core.key.toString('hex'), port: server.address().port })
  })
}

async function reader (dir, key, port) {
  const core = new Hypercore(path.join(dir, 'reader'), Buffer.from(key, 'hex'))
  await core.ready()
  const cpu0 = process.cpuUsage()
  const t0 = process.hrtime.bigint()
  const socket = net.connect(port, '127.0.0.1')
  const s = core.replicate(true)
  socket.pipe(s).pipe(socket)
  await core.update({ wait: true })
  await core.download({ start: 0, end: RECORDS }).done()
  const secs = Number(process.hrtime.bigint() - t0) / 1e9
  const cpu = process.cpuUsage(cpu0)
  if (core.contiguousLength !== RECORDS) throw new Error(`reader holds ${core.contiguousLength}`)
  process.send({ secs, cpu: (cpu.user + cpu.system) / 1e6, rss: peakRss() })
  socket.destroy()
  await core.close()
}

async function main () {
  const role = process.argv[2]
  if (role === 'writer') return writer(process.argv[3])
  if (role === 'reader') return reader(process.argv[3], process.argv[4], Number(process.argv[5]))
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agora-bench-hypercore-'))
  try {
    const w = fork(__filename, ['writer', dir])
    const { key, port } = await new Promise(resolve => w.once('message', resolve))
    const r = fork(__filename, ['reader', dir, key, String(port)])
    const res = await new Promise((resolve, reject) => {
      r.once('message', resolve)
      r.once('exit', code => code && reject(new Error(`reader exited ${code}`)))
    })
    w.kill()
    console.log(`hypercore.entries_per_s: ${Math.round(RECORDS / res.secs)}`)
    console.log(`hypercore.reader_cpu_s: ${res.cpu.toFixed(2)}`)
    console.log(`hypercore.entries_per_cpu_s: ${Math.round(RECORDS / res.cpu)}`)
    console.log(`hypercore.reader_peak_rss_mb: ${res.rss.toFixed(1)}`)
    console.log(`hypercore.load_1m: ${os.loadavg()[0].toFixed(2)}`)
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

main().catch(err => { console.error(err); process.exit(1) })
