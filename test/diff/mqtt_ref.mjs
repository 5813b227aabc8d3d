// mqtt_ref.mjs -- reference side of the MQTT differential test.
//
//   node test/diff/mqtt_ref.mjs FILE...
//
// Each file is a byte stream.  It is fed whole to mqtt-packet's parser
// (MQTT 3.1.1: protocolVersion 4) and one line is printed per file, in the
// format of test/diff/mqtt_driver.c, plus a fourth column:
//
//   PATH <TAB> VERDICT <TAB> PACKETS <TAB> NOTES
//
// VERDICT: "accept" (every byte went into an emitted packet), "incomplete"
// (no error, but the parser is inside a packet, waiting for more) or
// "reject:<mqtt-packet's error message>".  PACKETS: the summaries of the
// packets emitted before that ("-" when none).
//
// NOTES is a JSON array with one entry per packet of the stream as framed
// by the fixed header (type, remaining length): the MQTT 3.1.1 rules that
// packet breaks which mqtt-packet does not enforce (see docs/differential.md;
// each tag names the spec clause).  They are computed here, from the raw
// bytes, by a small checker that knows only those rules; the comparison
// uses them to tell a documented difference from an unexplained one.
import { createRequire } from 'node:module'
import { readFileSync } from 'node:fs'

const require = createRequire(new URL('../node/package.json', import.meta.url))
const mqttPacket = require('mqtt-packet')

const TYPES = ['RESERVED0', 'CONNECT', 'CONNACK', 'PUBLISH', 'PUBACK', 'PUBREC',
  'PUBREL', 'PUBCOMP', 'SUBSCRIBE', 'SUBACK', 'UNSUBSCRIBE', 'UNSUBACK',
  'PINGREQ', 'PINGRESP', 'DISCONNECT', 'RESERVED15']
const CMD = {
  connect: 1, connack: 2, publish: 3, puback: 4, pubrec: 5, pubrel: 6, pubcomp: 7,
  subscribe: 8, suback: 9, unsubscribe: 10, unsuback: 11, pingreq: 12,
  pingresp: 13, disconnect: 14
}
// the flags mqtt-packet requires of every type but PUBLISH (it refuses others)
const REQUIRED_FLAGS = { 6: 2, 8: 2, 10: 2 }

const hex = (s) => s === undefined || s === null ? '-' : Buffer.from(s, 'utf8').toString('hex')

function summary (p) {
  const t = CMD[p.cmd]
  if (t === undefined) return `?${p.cmd}`
  const flags = t === 3 ? (p.dup ? 8 : 0) | (p.qos << 1) | (p.retain ? 1 : 0) : (REQUIRED_FLAGS[t] || 0)
  let s = `${TYPES[t]}:${flags}:${p.length}`
  switch (t) {
    case 1: {
      const w = p.will ? `${hex(p.will.topic)}/${p.will.qos}/${p.will.retain ? 1 : 0}/${p.will.payload.length}` : '-'
      s += `:c=${hex(p.clientId)},ka=${p.keepalive},cl=${p.clean ? 1 : 0},u=${hex(p.username)}` +
        `,p=${p.password !== undefined ? p.password.length : '-'},w=${w}`
      break
    }
    case 2: s += `:sp=${p.sessionPresent ? 1 : 0},rc=${p.returnCode}`; break
    case 3: s += `:t=${hex(p.topic)},q=${p.qos},pl=${p.payload.length},id=${p.qos > 0 ? p.messageId : '-'}`; break
    case 8: s += `:id=${p.messageId},f=${p.subscriptions.map(x => `${hex(x.topic)}/${x.qos}`).join('+')}`; break
    case 9: s += `:id=${p.messageId},g=${p.granted.join('+')}`; break
    case 10: s += `:id=${p.messageId},f=${p.unsubscriptions.map(hex).join('+')}`; break
    case 12: case 13: case 14: break
    default: s += `:id=${p.messageId}`
  }
  return s
}

// ------------------------------------------------------------ spec notes
// Rules of MQTT 3.1.1 that mqtt-packet 9 does not check for protocol 4.

const utf8 = new TextDecoder('utf-8', { fatal: true })
function badString (b) { // MQTT-1.5.3-1 (well-formed, no surrogates), MQTT-1.5.3-2 (no U+0000)
  try { utf8.decode(b) } catch { return true }
  return b.includes(0)
}
function badFilter (b) { // MQTT-4.7.1-2, MQTT-4.7.1-3
  for (let i = 0; i < b.length; i++) {
    if (b[i] !== 0x2b && b[i] !== 0x23) continue
    if (i > 0 && b[i - 1] !== 0x2f) return true
    if (b[i] === 0x23 ? i + 1 !== b.length : i + 1 < b.length && b[i + 1] !== 0x2f) return true
  }
  return false
}

function packetNotes (type, flags, body) {
  const n = new Set()
  let pos = 0
  const str = () => { // a length-prefixed field, or null when it runs past the body
    if (pos + 2 > body.length) return null
    const l = body.readUInt16BE(pos)
    if (pos + 2 + l > body.length) return null
    const s = body.subarray(pos + 2, pos + 2 + l)
    pos += 2 + l
    return s
  }
  const id = () => {
    if (pos + 2 > body.length) { n.add('length'); return false }
    if (body.readUInt16BE(pos) === 0) n.add('pid0') // MQTT-2.3.1-1
    pos += 2
    return true
  }
  const topicName = (t) => {
    if (t.length === 0) n.add('topic_empty') // MQTT-4.7.3-1
    if (t.includes(0x2b) || t.includes(0x23)) n.add('topic_wild') // MQTT-3.3.2-2, MQTT-3.1.3-11
    if (badString(t)) n.add('utf8')
  }
  switch (type) {
    case 0: case 15: n.add('reserved_type'); break
    case 1: { // CONNECT
      const proto = Buffer.from([0, 4, 0x4d, 0x51, 0x54, 0x54, 4])
      if (!body.subarray(0, 7).equals(proto.subarray(0, Math.min(7, body.length)))) {
        n.add('protocol') // only "MQTT" level 4 is 3.1.1 (MQTT-3.1.2-1, -2)
        break
      }
      if (body.length < 10) { n.add('length'); break } // flags and keep alive missing
      const fl = body[7]
      pos = 10
      if ((fl & 4) && ((fl >> 3) & 3) === 3) n.add('will_qos3') // MQTT-3.1.2-14
      if ((fl & 0xc0) === 0x40) n.add('pass_no_user') // MQTT-3.1.2-22
      const fields = [['client', true], ...(fl & 4 ? [['wtopic', true], ['wpayload', false]] : []),
        ...(fl & 0x80 ? [['user', true]] : []), ...(fl & 0x40 ? [['pass', false]] : [])]
      for (const [name, isText] of fields) {
        const s = str()
        if (s === null) { n.add('length'); break }
        if (name === 'wtopic') topicName(s)
        else if (isText && badString(s)) n.add('utf8')
      }
      if (!n.has('length') && pos !== body.length) n.add('trailing') // MQTT-3.1.3-1: fields in order, nothing else
      break
    }
    case 2: // CONNACK: 2 bytes (MQTT 3.2), codes 0..5, no session present with a refusal
      if (body.length !== 2) { n.add('length'); break }
      if (body[1] > 5) n.add('connack_rc')
      if (body[1] !== 0 && body[0] !== 0) n.add('connack_sp') // MQTT-3.2.2-4
      break
    case 3: { // PUBLISH
      const qos = (flags >> 1) & 3
      if (qos === 0 && (flags & 8)) n.add('dup_qos0') // MQTT-3.3.1-2
      const t = str()
      if (t === null) { n.add('length'); break }
      topicName(t)
      if (qos > 0) id()
      break
    }
    case 4: case 5: case 6: case 7: case 11: // 2-byte acks (MQTT 3.4-3.7, 3.11)
      if (body.length !== 2) { n.add('length'); break }
      id()
      break
    case 8: case 10: { // SUBSCRIBE, UNSUBSCRIBE
      if (!id()) break
      if (pos === body.length) n.add('empty_list') // MQTT-3.8.3-3, MQTT-3.10.3-2
      while (pos < body.length) {
        const f = str()
        if (f === null) { n.add('length'); break }
        if (f.length === 0) n.add('topic_empty') // MQTT-4.7.3-1
        if (badFilter(f)) n.add('filter_wild')
        if (badString(f)) n.add('utf8')
        if (type === 8) {
          if (pos >= body.length) { n.add('length'); break }
          pos++
        }
      }
      break
    }
    case 9: // SUBACK
      if (!id()) break
      if (pos === body.length) n.add('empty_list') // one code per filter, and there is >= 1
      break
    case 12: case 13: case 14: // no variable header, no payload
      if (body.length !== 0) n.add('length')
      break
  }
  return [...n].sort()
}

function streamNotes (buf) {
  const out = []
  let off = 0
  while (off < buf.length) {
    const type = buf[off] >> 4
    const flags = buf[off] & 15
    let rem = 0
    let mul = 1
    let i = off + 1
    let done = false
    for (; i < buf.length && i < off + 5; i++) {
      rem += (buf[i] & 0x7f) * mul
      mul *= 128
      if (!(buf[i] & 0x80)) { done = true; i++; break }
    }
    if (!done || i + rem > buf.length) {
      // an incomplete packet: mqtt-packet waits for the rest before it
      // looks at anything but the flags; we also refuse these from the
      // first byte
      const h = []
      if (type === 0 || type === 15) h.push('reserved_type')
      if (type === 3 && (flags & 6) === 0 && (flags & 8)) h.push('dup_qos0') // MQTT-3.3.1-2
      if (h.length) out.push(h)
      break
    }
    out.push(packetNotes(type, flags, buf.subarray(i, i + rem)))
    off = i + rem
  }
  return out
}

// ------------------------------------------------------------ main

for (const path of process.argv.slice(2)) {
  const buf = readFileSync(path)
  const parser = mqttPacket.parser({ protocolVersion: 4 })
  const packets = []
  let error = null
  parser.on('packet', (p) => { if (!error) packets.push(summary(p)) })
  parser.on('error', (e) => { if (!error) error = e })
  let left = 0
  try {
    left = buf.length ? parser.parse(buf) : 0
  } catch (e) {
    error = error || e
  }
  let verdict
  if (error) verdict = 'reject:' + String(error.message).replace(/[\t\n]/g, ' ')
  // parse() returns the bytes it holds back, but a fixed header it has
  // consumed is not counted there: a parser between packets is back in its
  // first state (_parseHeader)
  else if (left > 0 || parser._stateCounter !== 0) verdict = 'incomplete'
  else verdict = 'accept'
  const notes = JSON.stringify(streamNotes(buf))
  process.stdout.write(`${path}\t${verdict}\t${packets.length ? packets.join(' ') : '-'}\t${notes}\n`)
}
