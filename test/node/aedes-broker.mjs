#!/usr/bin/env node
// aedes as an independent MQTT 3.1.1 broker for dmqtt's tests.
//
//   node aedes-broker.mjs --port P [--host 127.0.0.1] [--user U --password P]
//                         [--pidfile FILE]
//
// Prints "ready <port>" on stdout once listening (--port 0 lets the kernel
// pick one and prints it).  With --user/--password, CONNECT without a
// username gets CONNACK 5 (not authorized) and a wrong username or password
// gets CONNACK 4 (bad user name or password).  Persistence is aedes' default
// in-memory store: clean=false sessions and their queued QoS>0 messages
// survive client reconnects while this process runs.  SIGTERM/SIGINT close
// the broker and exit 0.  --pidfile FILE gets the pid once listening.
import fs from 'node:fs'
import net from 'node:net'
import { Aedes } from 'aedes'

function usage (msg) {
  process.stderr.write(`aedes-broker: ${msg}\n` +
    'usage: aedes-broker.mjs --port P [--host H] [--user U --password P] [--pidfile F]\n')
  process.exit(64)
}

const opt = { host: '127.0.0.1', port: null, user: null, password: null, pidfile: null }
const argv = process.argv.slice(2)
for (let i = 0; i < argv.length; i++) {
  const a = argv[i]
  const key = { '--port': 'port', '--host': 'host', '--user': 'user', '--password': 'password', '--pidfile': 'pidfile' }[a]
  if (!key) usage(`unknown option '${a}'`)
  if (i + 1 >= argv.length) usage(`${a} needs a value`)
  opt[key] = argv[++i]
}
if (opt.port === null) usage('--port is required')
const port = Number(opt.port)
if (!Number.isInteger(port) || port < 0 || port > 65535) usage(`bad port '${opt.port}'`)
if ((opt.user === null) !== (opt.password === null)) usage('--user and --password go together')

const brokerOpts = {}
if (opt.user !== null) {
  brokerOpts.authenticate = (client, username, password, callback) => {
    if (username === undefined || username === null) {
      const err = new Error('not authorized')
      err.returnCode = 5
      return callback(err, false)
    }
    if (username === opt.user && password && password.toString('utf8') === opt.password) {
      return callback(null, true)
    }
    const err = new Error('bad user name or password')
    err.returnCode = 4
    return callback(err, false)
  }
}

const aedes = await Aedes.createBroker(brokerOpts)
const server = net.createServer(aedes.handle)
// A client that vanishes mid-packet must not take the broker down.
aedes.on('clientError', () => {})
aedes.on('connectionError', () => {})

let stopping = false
function stop () {
  if (stopping) return
  stopping = true
  // Open client sockets would keep server.close() waiting: aedes.close()
  // ends them, then the listener goes.
  const force = setTimeout(() => process.exit(0), 2000)
  force.unref()
  aedes.close(() => server.close(() => process.exit(0)))
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)

server.on('error', (err) => {
  process.stderr.write(`aedes-broker: ${err.message}\n`)
  process.exit(1)
})
server.listen(port, opt.host, () => {
  if (opt.pidfile !== null) fs.writeFileSync(opt.pidfile, `${process.pid}\n`)
  process.stdout.write(`ready ${server.address().port}\n`)
})
