/**
 * Application messages: decoding edge cases with the exact error codes of the
 * Python reference (messages.py on msgspec 0.22; the expected results below
 * were produced by running it), encoding order, and the few places where the
 * TypeScript decoder is deliberately stricter than Python.
 */

import { describe, expect, it } from "vitest";

import { fromHex, utf8 } from "../src/protocol/bytes";
import { MAX_DEPTH } from "../src/protocol/json";
import { type Message, MESSAGE_TYPES, decodeMessage, encodeMessage } from "../src/protocol/messages";
import { codeOf } from "./helpers";

/** Input bytes that are not valid UTF-8, given in hex. */
function raw(hex: string): Uint8Array {
  return fromHex(hex);
}

/**
 * [input, result]: result is "ok" (decodes and re-encodes to the same bytes),
 * "ok:<json>" (decodes, and re-encodes to <json>), or the error code.
 */
const PYTHON_CASES: readonly (readonly [string | Uint8Array, string])[] = [
  ["{\"t\":\"ping\",\"n\":1.0}", "bad_message"],
  ["{\"t\":\"ping\",\"n\":1e3}", "bad_message"],
  ["{\"t\":\"ping\",\"n\":-0}", "ok:{\"t\":\"ping\",\"n\":0}"],
  ["{\"t\":\"ping\",\"n\":01}", "bad_message"],
  ["{\"t\":\"ping\",\"n\":true}", "bad_message"],
  ["{\"t\":\"ping\",\"n\":99999999999999999999999999}", "bad_message"],
  ["{\"t\":\"ping\",\"n\":9007199254740991}", "ok"],
  ["{\"t\":\"ping\",\"n\":-99999999999999999999}", "bad_message"],
  ["{\"n\":9,\"t\":\"ping\"}", "ok:{\"t\":\"ping\",\"n\":9}"],
  ["{\"t\":\"ping\",\"n\":9,\"n\":10}", "ok:{\"t\":\"ping\",\"n\":10}"],
  ["{\"t\":\"ping\",\"n\":-1,\"n\":10}", "bad_message"],
  ["{\"t\":\"ping\",\"t\":\"pong\",\"n\":9}", "unknown_type"],
  ["{\"t\":\"ping\",\"n\":9,\"t\":\"ping\"}", "ok:{\"t\":\"ping\",\"n\":9}"],
  ["{\"t\":\"ping\",\"n\":9,\"t\":5}", "bad_message"],
  ["{\"t\":5}", "bad_message"],
  ["{\"t\":null}", "bad_message"],
  ["{\"n\":1}", "bad_message"],
  ["{\"x\":1,\"t\":\"teleport\"}", "unknown_type"],
  ["{\"proto\":2,\"t\":\"hello\",\"agent\":\"x\"}", "version_mismatch"],
  ["{\"proto\":2,\"t\":\"teleport\"}", "unknown_type"],
  ["{\"t\":\"teleport\",\"x\":[1}", "unknown_type"],
  ["{\"t\":\"teleport\"", "unknown_type"],
  ["{\"n\":[1,\"t\":\"ping\"}", "bad_message"],
  ["{\"\\u0074\":\"ping\",\"n\":9}", "ok:{\"t\":\"ping\",\"n\":9}"],
  ["{\"t\":\"p\\u0069ng\",\"n\":9}", "ok:{\"t\":\"ping\",\"n\":9}"],
  ["{\"t\":\"hello\",\"proto\":\"1\",\"agent\":\"x\"}", "version_mismatch"],
  ["{\"t\":\"hello\",\"proto\":null,\"agent\":\"x\"}", "version_mismatch"],
  ["{\"t\":\"hello\",\"proto\":[1,}", "version_mismatch"],
  ["{\"t\":\"hello\",\"proto\":truex,\"agent\":\"x\"}", "version_mismatch"],
  ["{\"t\":\"hello\",\"proto\":nulx,\"agent\":\"x\"}", "bad_message"],
  ["{\"t\":\"hello\",\"proto\":\"\\q\",\"agent\":\"x\"}", "bad_message"],
  ["{\"t\":\"hello\",\"proto\":2", "version_mismatch"],
  ["{\"t\":\"hello\",\"proto\":1.0,\"agent\":\"x\"}", "version_mismatch"],
  ["{\"t\":\"hello\",\"agent\":\"x\"}", "bad_message"],
  ["{\"t\":\"hello\",\"agent\":\"\",\"proto\":2}", "bad_message"],
  ["{\"t\":\"hello\",\"proto\":2,\"agent\":\"\"}", "version_mismatch"],
  ["{\"t\":\"hello\",\"proto\":1,\"agent\":\"\\ud800\"}", "bad_message"],
  ["{\"t\":\"hello\",\"proto\":1,\"agent\":\"\\udc00\"}", "bad_message"],
  ["{\"t\":\"hello\",\"proto\":1,\"agent\":\"\\ud83d\\ude05\"}", "ok:{\"t\":\"hello\",\"proto\":1,\"agent\":\"\ud83d\ude05\"}"],
  ["{\"t\":\"hello\",\"proto\":1,\"agent\":\"a\\u0000b\\/\\u00e9\"}", "ok:{\"t\":\"hello\",\"proto\":1,\"agent\":\"a\\u0000b/\u00e9\"}"],
  ["{\"t\":\"hello\",\"proto\":1,\"agent\":\"" + "\u00e9".repeat(128) + "\"}", "ok"],
  ["{\"t\":\"hello\",\"proto\":1,\"agent\":\"" + "\u00e9".repeat(129) + "\"}", "bad_message"],
  ["{\"t\":\"hello\",\"proto\":1,\"agent\":\"" + "\ud83d\ude05".repeat(128) + "\"}", "ok"],
  ["{\"t\":\"hello\",\"proto\":1,\"agent\":\"" + "\ud83d\ude05".repeat(129) + "\"}", "bad_message"],
  ["{\"t\":\"hello\",\"proto\":1,\"agent\":\"a\tb\"}", "bad_message"],
  ["{\"t\":\"hello\",\"proto\":1,\"agent\":\"x\",\"proto\":2}", "version_mismatch"],
  ["{\"t\":\"send\",\"to\":[5],\"cmid\":\"0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f\",\"body\":\"x\"}", "invalid_number"],
  ["{\"t\":\"send\",\"to\":\"x\",\"cmid\":\"0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f\",\"body\":\"x\"}", "bad_message"],
  ["{\"t\":\"send\",\"to\":[\"555-0100\"],\"cmid\":\"X\",\"body\":\"x\"}", "invalid_number"],
  ["{\"t\":\"send\",\"cmid\":\"X\",\"to\":[\"555-0100\"],\"body\":\"x\"}", "bad_message"],
  ["{\"t\":\"send\",\"cmid\":\"0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f\",\"to\":[\"555\"],\"body\":5}", "bad_message"],
  ["{\"t\":\"send\",\"cmid\":\"0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f\",\"to\":[" + "\"555\",".repeat(20) + "\"bad\"],\"body\":\"x\"}", "invalid_number"],
  ["{\"t\":\"send\",\"cmid\":\"0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f\",\"to\":[" + "\"555\",".repeat(20) + "\"555\"],\"body\":\"x\"}", "bad_message"],
  ["{\"t\":\"send\",\"cmid\":\"0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f\",\"to\":[" + "\"555\",".repeat(21) + "tru],\"body\":\"x\"}", "bad_message"],
  ["{\"t\":\"send\",\"cmid\":\"0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f\",\"to\":[\"555\",],\"body\":\"x\"}", "bad_message"],
  ["{\"t\":\"send\",\"cmid\":\"0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f\",\"to\":[1.5.],\"body\":\"x\"}", "invalid_number"],
  ["{\"t\":\"send\",\"cmid\":\"0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f\",\"to\":[{],\"body\":\"x\"}", "invalid_number"],
  ["{\"t\":\"send\",\"cmid\":\"0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f\",\"to\":[\"\\q\"],\"body\":\"x\"}", "bad_message"],
  ["{\"t\":\"send\",\"cmid\":\"0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f\",\"to\":[],\"body\":\"x\"", "bad_message"],
  ["{\"t\":\"send\",\"cmid\":\"0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f\",\"to\":[\"555\"],\"body\":\"" + "\ud83d\ude05".repeat(10000) + "\",\"at\":null,\"created\":null}", "ok"],
  ["{\"t\":\"send\",\"cmid\":\"0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f\",\"to\":[\"555\"],\"body\":\"" + "\ud83d\ude05".repeat(10001) + "\"}", "body_too_long"],
  ["{\"t\":\"send\",\"cmid\":\"0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f\",\"to\":[\"555\"],\"body\":\"" + "x".repeat(10001) + "\\q\"}", "bad_message"],
  ["{\"t\":\"send\",\"cmid\":\"0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f\",\"to\":[\"555\"],\"body\":\"" + "x".repeat(10001), "bad_message"],
  ["{\"t\":\"send\",\"cmid\":\"0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f\",\"to\":[\"+123456789012345\"],\"body\":\"x\",\"at\":null,\"created\":null}", "ok"],
  ["{\"t\":\"send\",\"cmid\":\"0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f\",\"to\":[\"+1234567890123456\"],\"body\":\"x\"}", "invalid_number"],
  ["{\"t\":\"send\",\"cmid\":\"0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f\",\"to\":[\"12345678\"],\"body\":\"x\",\"at\":null,\"created\":null}", "ok"],
  ["{\"t\":\"send\",\"cmid\":\"0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f\",\"to\":[\"123456789\"],\"body\":\"x\"}", "invalid_number"],
  ["{\"t\":\"ack\",\"cmid\":\"0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f\",\"msg_id\":1,\"state\":\"x\",\"reason\":null}", "bad_message"],
  ["{\"t\":\"ack\",\"cmid\":\"0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f\",\"msg_id\":1,\"state\":\"sent\",\"reason\":\"" + "\u00e9".repeat(500) + "\"}", "ok"],
  ["{\"t\":\"ack\",\"cmid\":\"0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f\",\"msg_id\":1,\"state\":\"sent\",\"reason\":\"" + "\u00e9".repeat(501) + "\"}", "bad_message"],
  ["{\"t\":\"error\",\"code\":\"x\",\"message\":\"m\",\"ref\":null,\"extra\":{\"a\":[1,2,{\"b\":null}]}}", "ok:{\"t\":\"error\",\"code\":\"x\",\"message\":\"m\",\"ref\":null}"],
  ["{\"t\":\"error\",\"code\":\"x\",\"message\":null,\"ref\":null}", "bad_message"],
  ["{\"t\":\"error\",\"code\":\"Bad\",\"message\":\"m\",\"ref\":null}", "bad_message"],
  ["{\"t\":\"error\",\"code\":\"x\",\"message\":\"m\",\"ref\":\"" + "r".repeat(65) + "\"}", "bad_message"],
  ["{\"t\":\"bye\",\"reason\":null}", "bad_message"],
  ["{\"t\":\"ping\",\"n\":9,\"x\":1.5e999}", "ok:{\"t\":\"ping\",\"n\":9}"],
  ["{\"t\":\"ping\",\"n\":9,\"x\":nan}", "bad_message"],
  ["{\"t\":\"ping\",\"n\":9,\"x\":\"\\q\"}", "bad_message"],
  ["{\"x\":\"\\ud800\",\"t\":\"ping\",\"n\":9}", "bad_message"],
  ["{\"t\":\"ping\",\"n\":9,\"x\":{\"y\":1,}}", "bad_message"],
  ["{\"t\":\"ping\",\"n\":9,\"x\":{1:1}}", "bad_message"],
  ["{\"t\":\"ping\",\"n\":9,\"x\":[1,2,]}", "bad_message"],
  ["{\"t\":\"event\",\"event\":{\"seq\":1,\"k\":\"status\",\"id\":1,\"state\":\"sent\",\"reason\":null,\"at\":1}}", "ok:{\"t\":\"event\",\"event\":{\"k\":\"status\",\"seq\":1,\"id\":1,\"state\":\"sent\",\"reason\":null,\"at\":1}}"],
  ["{\"t\":\"event\",\"event\":{\"k\":\"x\"}}", "bad_message"],
  ["{\"t\":\"event\",\"event\":{}}", "bad_message"],
  ["{\"t\":\"event\",\"event\":[]}", "bad_message"],
  ["{\"t\":\"event\",\"event\":{\"k\":\"status\",\"seq\":1,\"id\":1,\"state\":\"sent\",\"reason\":null,\"at\":1,\"k\":\"msg\"}}", "bad_message"],
  ["{\"t\":\"event\",\"event\":{\"k\":\"msg\",\"seq\":1,\"msg\":{\"id\":1,\"conv\":1,\"dir\":\"up\",\"peers\":[\"x\"],\"body\":\"\",\"at\":1,\"state\":\"sent\",\"reason\":null,\"cmid\":null}}}", "bad_message"],
  ["{\"t\":\"event\",\"event\":{\"k\":\"msg\",\"seq\":1,\"msg\":{\"id\":1,\"conv\":1,\"dir\":\"in\",\"peers\":[\"ALPHA-1._ x\"],\"body\":\"\",\"at\":1,\"state\":\"sent\",\"reason\":null,\"cmid\":null}}}", "ok:{\"t\":\"event\",\"event\":{\"k\":\"msg\",\"seq\":1,\"msg\":{\"id\":1,\"conv\":1,\"dir\":\"in\",\"peers\":[\"ALPHA-1._ x\"],\"body\":\"\",\"at\":1,\"state\":\"sent\",\"reason\":null,\"cmid\":null,\"kind\":\"sms\",\"sender\":\"\",\"subject\":null,\"atts\":[],\"parts\":1,\"missing\":[]}}}"],
  ["{\"t\":\"event\",\"event\":{\"k\":\"msg\",\"seq\":1,\"msg\":{\"id\":1,\"conv\":1,\"dir\":\"in\",\"peers\":[\"ALPHA-1._ xx\"],\"body\":\"\",\"at\":1,\"state\":\"sent\",\"reason\":null,\"cmid\":null}}}", "ok:{\"t\":\"event\",\"event\":{\"k\":\"msg\",\"seq\":1,\"msg\":{\"id\":1,\"conv\":1,\"dir\":\"in\",\"peers\":[\"ALPHA-1._ xx\"],\"body\":\"\",\"at\":1,\"state\":\"sent\",\"reason\":null,\"cmid\":null,\"kind\":\"sms\",\"sender\":\"\",\"subject\":null,\"atts\":[],\"parts\":1,\"missing\":[]}}}"],
  ["{\"t\":\"event\",\"event\":{\"k\":\"conv\",\"seq\":1,\"conv\":{\"id\":7,\"peers\":[],\"name\":null,\"last_at\":0,\"unread\":0}}}", "bad_message"],
  ["{\"t\":\"batch\",\"events\":[],\"more\":0}", "bad_message"],
  ["{\"t\":\"batch\",\"events\":\"x\",\"more\":false}", "bad_message"],
  ["{\"t\":\"batch\",\"events\":[" + "{\"k\":\"status\",\"seq\":1,\"id\":1,\"state\":\"sent\",\"reason\":null,\"at\":1},".repeat(1000) + "{\"k\":\"status\",\"seq\":1,\"id\":1,\"state\":\"sent\",\"reason\":null,\"at\":1}],\"more\":false}", "bad_message"],
  ["{\"t\":\"search\",\"qid\":1,\"query\":\"x\",\"limit\":10}", "bad_message"],
  ["{\"t\":\"search\",\"qid\":1,\"query\":\"x\",\"limit\":10,\"before\":\"x\"}", "bad_message"],
  ["{\"t\":\"search\",\"qid\":1,\"query\":\"x\",\"limit\":10,\"before\":5}", "ok"],
  ["{\"t\":\"welcome\",\"proto\":1,\"host_name\":\"h\",\"device_id\":\"AAAAAAAAAAAAAAAAAAAAAA\",\"seq\":0,\"caps\":{\"mms\":false,\"max_parts\":10}}", "bad_message"],
  ["{\"t\":\"welcome\",\"proto\":1,\"host_name\":\"h\",\"device_id\":\"AAAAAAAAAAAAAAAAAAAAAA\",\"seq\":0,\"caps\":{\"delivery_reports\":true,\"mms\":false,\"max_parts\":256}}", "bad_message"],
  ["{\"t\":\"welcome\",\"proto\":1,\"host_name\":\"h\",\"device_id\":\"AAAAAAAAAAAAAAAAAAAAAA\",\"seq\":0,\"caps\":null}", "bad_message"],
  ["{\"t\":\"pair_accept\",\"host_name\":\"h\",\"room\":\"UlJSUlJSUlJSUlJSUlJSUg\",\"token\":\"" + "VFRU".repeat(10) + "VFQ\",\"relay\":\"ws://a\\u00a0b\"}", "bad_message"],
  ["{\"t\":\"pair_accept\",\"host_name\":\"h\",\"room\":\"UlJSUlJSUlJSUlJSUlJSUg\",\"token\":\"" + "VFRU".repeat(10) + "VFQ\",\"relay\":\"ws://a\\u0085b\"}", "bad_message"],
  ["{\"t\":\"pair_accept\",\"host_name\":\"h\",\"room\":\"UlJSUlJSUlJSUlJSUlJSUg\",\"token\":\"" + "VFRU".repeat(10) + "VFQ\",\"relay\":\"ws://a\\ufeffb\"}", "ok:{\"t\":\"pair_accept\",\"host_name\":\"h\",\"room\":\"UlJSUlJSUlJSUlJSUlJSUg\",\"token\":\"VFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFQ\",\"relay\":\"ws://a\ufeffb\"}"],
  ["{\"t\":\"pair_accept\",\"host_name\":\"h\",\"room\":\"UlJSUlJSUlJSUlJSUlJSUg\",\"token\":\"" + "VFRU".repeat(10) + "VFQ\",\"relay\":\"ws://" + "\ud83d\ude05".repeat(500) + "\"}", "ok"],
  ["{\"t\":\"pair_accept\",\"host_name\":\"h\",\"room\":\"UlJSUlJSUlJSUlJSUlJSUg\",\"token\":\"" + "VFRU".repeat(10) + "VFQ\",\"relay\":\"ws://" + "\ud83d\ude05".repeat(501) + "\"}", "ok"],
  ["{\"t\":\"pair_accept\",\"host_name\":\"h\",\"room\":\"UlJSUlJSUlJSUlJSUlJSUg\",\"token\":\"" + "VFRU".repeat(10) + "VFQ\",\"relay\":\"ws://" + "\ud83d\ude05".repeat(508) + "\"}", "bad_message"],
  ["{\"t\":\"pair_request\",\"name\":\"" + "n".repeat(65) + "\",\"agent\":\"a\"}", "bad_message"],
  ["  ", "bad_message"],
  ["null", "bad_message"],
  ["\"x\"", "bad_message"],
  ["1", "bad_message"],
  ["[", "bad_message"],
  ["{", "bad_message"],
  ["{\"t\":\"ping\",\"n\":9}}", "bad_message"],
  ["{\"t\":\"ping\",\"n\":9}x", "bad_message"],
  [" {\"t\":\"ping\",\"n\":9} \r\n", "ok:{\"t\":\"ping\",\"n\":9}"],
  ["{\"t\":\"ping\",\"n\":9}\u000b", "bad_message"],
  ["\ufeff{\"t\":\"ping\",\"n\":9}", "bad_message"],
  [raw("7b2274223a2268656c6c6f222c2270726f746f223a322c226167656e74223a22ff227d"), "version_mismatch"],
  [raw("7b2274223a2274656c65706f7274222c2278223a22ff227d"), "unknown_type"],
  [raw("7b2274223a2270696e67222c226e223a392c2278223a22ff227d"), "ok:{\"t\":\"ping\",\"n\":9}"],
  [raw("7b2274223a2270696e67222c226e223a392c22ff223a317d"), "ok:{\"t\":\"ping\",\"n\":9}"],
  [raw("7b2274223a2268656c6c6f222c2270726f746f223a312c226167656e74223a22eda080227d"), "bad_message"],
  [raw("7b2274223a2268656c6c6f222c2270726f746f223a22ff222c226167656e74223a2278227d"), "version_mismatch"],
  [raw("7b2274223a22ff227d"), "bad_message"],
  ["{\"t\":\"hello\",\"proto\":1,\"agent\":\"\ufeffx\"}", "ok"],
  ["{\"t\":\"hello\",\"proto\":1,\"agent\":\"x\u0001\"}", "bad_message"],
];

// ---------------------------------------------------------------- history paging, MMS records, chunks

/** An event carrying a message record that ends after `cmid` with `extra`. */
const MSG = (extra: string): string =>
  `{"t":"event","event":{"k":"msg","seq":1,"msg":{"id":1,"conv":1,"dir":"in","peers":["+15550100"],"body":"b","at":1,"state":"received","reason":null,"cmid":null${extra}}}}`;
/** An event carrying a conversation record that ends after `unread` with `extra`. */
const CONV = (extra: string): string =>
  `{"t":"event","event":{"k":"conv","seq":1,"conv":{"id":1,"peers":["+15550100"],"name":null,"last_at":1,"snippet":"s","unread":0${extra}}}}`;
const ATT = '{"id":1,"type":"image/png","name":null,"size":3,"broken":null}';
const CHUNK = (data: string, type = "image/png"): string =>
  `{"t":"chunk","qid":1,"att":2,"offset":0,"total":3,"type":${JSON.stringify(type)},"data":${JSON.stringify(data)}}`;
/** The record fields after `atts` as Python encodes their defaults. */
const PARTS = ',"parts":1,"missing":[]';
const DEFAULTS = ',"kind":"sms","sender":"","subject":null,"atts":[]' + PARTS;
/** What a conversation record without the management fields is read as. */
const FLAGS = ',"pinned":false,"archived":false,"muted":false,"blocked":false,"names":[]';
/** A conversation event around `conv`'s fields after id, and the same re-encoded with its defaults. */
const CONV_OF = (fields: string): string => `{"t":"event","event":{"k":"conv","seq":1,"conv":{"id":1,${fields}}}}`;
const WITH_FLAGS = (fields: string): string => "ok:" + CONV_OF(fields + FLAGS);

/** [input, result] as PYTHON_CASES, for the messages and record fields of history paging. */
const HISTORY_CASES: readonly (readonly [string, string])[] = [
  [MSG(',"kind":"mms","sender":"+15550100","subject":"Hi","atts":[' + ATT + "]" + PARTS), "ok"],
  [MSG(DEFAULTS.replace(PARTS, ',"parts":4,"missing":[1,3]')), "ok"],
  [MSG(',"parts":255'), "ok:" + MSG(DEFAULTS.replace(PARTS, ',"parts":255,"missing":[]'))],
  [MSG(',"parts":0'), "bad_message"],
  [MSG(',"parts":256'), "bad_message"],
  [MSG(',"missing":[0]'), "bad_message"],
  [MSG(',"missing":[256]'), "bad_message"],
  [MSG(',"missing":[' + Array(254).fill(1).join(",") + "]"), "ok:" + MSG(DEFAULTS.replace(PARTS, ',"parts":1,"missing":[' + Array(254).fill(1).join(",") + "]"))],
  [MSG(',"missing":[' + Array(255).fill(1).join(",") + "]"), "bad_message"],
  [MSG(',"missing":null'), "bad_message"],
  [MSG(',"atts":[],"subject":null,"sender":"","kind":"sms"'), "ok:" + MSG(DEFAULTS)],
  [MSG(',"subject":"s"'), "ok:" + MSG(',"kind":"sms","sender":"","subject":"s","atts":[]' + PARTS)],
  [MSG(',"kind":"rcs"'), "bad_message"],
  [MSG(',"kind":null'), "bad_message"],
  [MSG(',"sender":"a,b"'), "bad_message"],
  [MSG(',"sender":"' + "s".repeat(64) + '"'), "ok:" + MSG(',"kind":"sms","sender":"' + "s".repeat(64) + '","subject":null,"atts":[]' + PARTS)],
  [MSG(',"sender":"' + "s".repeat(65) + '"'), "bad_message"],
  [MSG(',"sender":"a\\u0007"'), "bad_message"],
  [MSG(',"subject":"' + "\u00e9".repeat(200) + '"'), "ok:" + MSG(',"kind":"sms","sender":"","subject":"' + "\u00e9".repeat(200) + '","atts":[]' + PARTS)],
  [MSG(',"subject":"' + "\u00e9".repeat(201) + '"'), "bad_message"],
  [MSG(',"atts":[' + Array(20).fill(ATT).join(",") + "]"), "ok:" + MSG(',"kind":"sms","sender":"","subject":null,"atts":[' + Array(20).fill(ATT).join(",") + "]" + PARTS)],
  [MSG(',"atts":[' + Array(21).fill(ATT).join(",") + "]"), "bad_message"],
  [MSG(',"atts":[{"id":1,"type":"","name":null,"size":3,"broken":null}]'), "bad_message"],
  [MSG(',"atts":[{"id":1,"type":"image/png","size":3,"broken":null}]'), "bad_message"],
  [MSG(',"atts":[{"id":1,"type":"image/png","name":"' + "n".repeat(129) + '","size":3,"broken":null}]'), "bad_message"],
  [MSG(',"atts":[{"id":1,"type":"image/png","name":null,"size":3,"broken":"' + "b".repeat(201) + '"}]'), "bad_message"],
  [MSG(',"atts":null'), "bad_message"],
  [CONV(""), "ok:" + CONV(',"hist":0' + FLAGS)],
  [CONV(',"hist":7'), "ok:" + CONV(',"hist":7' + FLAGS)],
  [CONV(',"hist":-1'), "bad_message"],
  [CONV(',"hist":null'), "bad_message"],
  [CONV_OF(`"peers":[${Array(100).fill('"x@example.com"').join(",")}],"name":null,"last_at":1,"snippet":"s","unread":0,"hist":0`), WITH_FLAGS(`"peers":[${Array(100).fill('"x@example.com"').join(",")}],"name":null,"last_at":1,"snippet":"s","unread":0,"hist":0`)],
  [`{"t":"event","event":{"k":"conv","seq":1,"conv":{"id":1,"peers":[${Array(101).fill('"x@example.com"').join(",")}],"name":null,"last_at":1,"snippet":"s","unread":0,"hist":0}}}`, "bad_message"],
  [CONV_OF(`"peers":["${"p".repeat(64)}"],"name":null,"last_at":1,"snippet":"s","unread":0,"hist":0`), WITH_FLAGS(`"peers":["${"p".repeat(64)}"],"name":null,"last_at":1,"snippet":"s","unread":0,"hist":0`)],
  [`{"t":"event","event":{"k":"conv","seq":1,"conv":{"id":1,"peers":["${"p".repeat(65)}"],"name":null,"last_at":1,"snippet":"s","unread":0,"hist":0}}}`, "bad_message"],
  [`{"t":"event","event":{"k":"conv","seq":1,"conv":{"id":1,"peers":["a,b"],"name":null,"last_at":1,"snippet":"s","unread":0,"hist":0}}}`, "bad_message"],
  [`{"t":"event","event":{"k":"conv","seq":1,"conv":{"id":1,"peers":[""],"name":null,"last_at":1,"snippet":"s","unread":0,"hist":0}}}`, "bad_message"],
  [`{"t":"event","event":{"k":"conv","seq":1,"conv":{"id":1,"peers":["a\\u007f"],"name":null,"last_at":1,"snippet":"s","unread":0,"hist":0}}}`, "bad_message"],
  [CONV_OF(`"peers":["${"\u{1f605}".repeat(64)}"],"name":null,"last_at":1,"snippet":"s","unread":0,"hist":0`), WITH_FLAGS(`"peers":["${"\u{1f605}".repeat(64)}"],"name":null,"last_at":1,"snippet":"s","unread":0,"hist":0`)],
  ['{"t":"send","cmid":"0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f","to":["x@example.com"],"body":"x"}', "invalid_number"],
  ['{"t":"convs","qid":1,"before":[9007199254740991,0],"limit":100}', 'ok:{"t":"convs","qid":1,"before":[9007199254740991,0],"limit":100,"folder":"inbox"}'],
  ['{"t":"convs","qid":1,"before":null,"limit":5,"folder":"blocked"}', "ok"],
  ['{"t":"convs","qid":1,"before":null,"limit":5,"folder":"Inbox"}', "bad_message"],
  ['{"t":"convs","qid":1,"before":null,"limit":5,"folder":null}', "bad_message"],
  [CONV(',"hist":0,"pinned":true,"archived":false,"muted":true,"blocked":false,"names":["Ana"]'), "ok"],
  [CONV(',"pinned":1'), "bad_message"],
  [CONV(',"names":[null,"' + "n".repeat(128) + '"]'), "ok:" + CONV(',"hist":0,"pinned":false,"archived":false,"muted":false,"blocked":false,"names":[null,"' + "n".repeat(128) + '"]')],
  [CONV(',"names":["' + "n".repeat(129) + '"]'), "bad_message"],
  [CONV(',"names":' + JSON.stringify(Array(101).fill(null))), "bad_message"],
  [CONV(',"names":null'), "bad_message"],
  ['{"t":"event","event":{"k":"gone","seq":3,"conv":7}}', "ok"],
  ['{"t":"event","event":{"k":"gone","seq":3}}', "bad_message"],
  ['{"t":"conv_set","qid":1,"conv":2}', 'ok:{"t":"conv_set","qid":1,"conv":2,"pinned":null,"archived":null,"muted":null,"blocked":null,"unread":null}'],
  ['{"t":"conv_set","qid":1,"conv":2,"pinned":true,"archived":null,"muted":false,"blocked":null,"unread":true}', "ok"],
  ['{"t":"conv_set","qid":1,"conv":2,"unread":1}', "bad_message"],
  ['{"t":"conv_set","qid":1,"pinned":true}', "bad_message"],
  ['{"t":"conv_delete","qid":1,"conv":2}', "ok"],
  ['{"t":"conv_delete","qid":1,"conv":-2}', "bad_message"],
  ['{"t":"contact","qid":1,"number":"+15550100","name":null}', "ok"],
  ['{"t":"contact","qid":1,"number":"Bank","name":"' + "é".repeat(128) + '"}', "ok"],
  ['{"t":"contact","qid":1,"number":"+15550100","name":"' + "n".repeat(129) + '"}', "bad_message"],
  ['{"t":"contact","qid":1,"number":"+15550100","name":""}', "bad_message"],
  ['{"t":"contact","qid":1,"number":"+15550100"}', "bad_message"],
  ['{"t":"contact","qid":1,"number":"","name":"x"}', "bad_message"],
  ['{"t":"done","qid":4}', "ok"],
  ['{"t":"done"}', "bad_message"],
  ['{"t":"convs","qid":1,"before":[1,2],"limit":0}', "bad_message"],
  ['{"t":"convs","qid":1,"before":[1,2],"limit":101}', "bad_message"],
  ['{"t":"convs","qid":1,"limit":50}', "bad_message"],
  ['{"t":"convs","qid":1,"before":[],"limit":50}', "bad_message"],
  ['{"t":"convs","qid":1,"before":[1,"x"],"limit":50}', "bad_message"],
  ['{"t":"convs","qid":1,"before":[1,2,],"limit":50}', "bad_message"],
  ['{"t":"convs","qid":1,"before":[1,2,x],"limit":50}', "bad_message"],
  ['{"t":"convs","qid":1,"before":[1,2', "bad_message"],
  ['{"t":"convs","qid":1,"before":{"at":1,"id":2},"limit":50}', "bad_message"],
  ['{"t":"convs","qid":1,"before":[1.0,2],"limit":50}', "bad_message"],
  ['{"t":"convs","qid":1,"before":[1,2,3],"t":"teleport"}', "bad_message"],
  ['{"t":"thread","qid":1,"conv":2,"before":[1,2],"after":[3,4],"limit":10}', "ok"],
  ['{"t":"thread","qid":1,"conv":2,"before":null,"limit":10}', "bad_message"],
  ['{"t":"thread","qid":1,"conv":-2,"before":null,"after":null,"limit":10}', "bad_message"],
  ['{"t":"conv_page","qid":1,"convs":[],"more":false}', "ok"],
  ['{"t":"thread_page","qid":1,"conv":2,"msgs":[],"more":false}', "ok"],
  ['{"t":"thread_page","qid":1,"conv":2,"msgs":[{"id":1}],"more":false}', "bad_message"],
  ['{"t":"fetch","qid":1,"att":2,"offset":0}', "ok"],
  ['{"t":"fetch","qid":1,"att":2,"offset":-1}', "bad_message"],
  [CHUNK("AAEC"), "ok"],
  [CHUNK(""), "ok"],
  [CHUNK("AA=="), "ok"],
  [CHUNK("AA==="), "bad_message"],
  [CHUNK("A=A="), "bad_message"],
  [CHUNK("AAEC\n"), "bad_message"],
  [CHUNK("-_"), "bad_message"],
  [CHUNK("A".repeat(60_000)), "ok"],
  [CHUNK("A".repeat(60_001)), "bad_message"],
  [CHUNK("AAEC", "t".repeat(128)), "ok"],
  [CHUNK("AAEC", "t".repeat(129)), "bad_message"],
];

const text = new TextDecoder();

async function result(input: string | Uint8Array): Promise<string> {
  const bytes = typeof input === "string" ? utf8(input) : input;
  let message: Message;
  try {
    message = decodeMessage(bytes);
  } catch {
    return codeOf(() => decodeMessage(bytes));
  }
  const encoded = text.decode(encodeMessage(message));
  return encoded === text.decode(bytes) ? "ok" : `ok:${encoded}`;
}

describe("decodeMessage agrees with the Python reference", () => {
  it.each(PYTHON_CASES.map(([input, expected], i) => [i, expected, input] as const))(
    "case %i: %s", async (_i, expected, input) => {
      expect(await result(input)).toBe(expected);
    });
});

/** The devices page's messages, each checked against messages.py (decode, then encode). */
const DEV = '"id":"AAECAwQFBgcICQoLDA0ODw","name":"Chrome on Linux","agent":"ua","created":1,"last_seen":null,"connected":true,"current":false';
const DEV_LIST = (...devices: string[]): string =>
  `{"t":"device_list","qid":3,"devices":[${devices.map((d) => `{${d}}`).join(",")}]}`;
const DEVICE_CASES: readonly (readonly [string, string])[] = [
  ['{"t":"devices","qid":3}', "ok"],
  ['{"t":"devices"}', "bad_message"],
  [DEV_LIST(), "ok"],
  [DEV_LIST(DEV), "ok:" + DEV_LIST(DEV + ',"session":false')],
  [DEV_LIST(DEV + ',"session":true'), "ok"],
  [DEV_LIST(DEV.replace('"last_seen":null', '"last_seen":5') + ',"session":false'), "ok"],
  [DEV_LIST(DEV.replace("AAECAwQFBgcICQoLDA0ODw", "AAECAwQFBgcICQoLDA0ODx")), "bad_message"],
  [DEV_LIST(DEV.replace("AAECAwQFBgcICQoLDA0ODw", "AAECAwQFBgcICQoLDA0O")), "bad_message"],
  [DEV_LIST(DEV.replace("Chrome on Linux", "")), "bad_message"],
  [DEV_LIST(DEV.replace("Chrome on Linux", "n".repeat(64))),
    "ok:" + DEV_LIST(DEV.replace("Chrome on Linux", "n".repeat(64)) + ',"session":false')],
  [DEV_LIST(DEV.replace("Chrome on Linux", "n".repeat(65))), "bad_message"],
  [DEV_LIST(DEV.replace('"connected":true', '"connected":1')), "bad_message"],
  [DEV_LIST(DEV.replace(',"current":false', "")), "bad_message"],
  [DEV_LIST(...Array<string>(100).fill(DEV)), "ok:" + DEV_LIST(...Array<string>(100).fill(DEV + ',"session":false'))],
  [DEV_LIST(...Array<string>(101).fill(DEV)), "bad_message"],
  ['{"t":"revoke","qid":4,"device_id":"AAECAwQFBgcICQoLDA0ODw"}', "ok"],
  ['{"t":"revoke","qid":4,"device_id":"AAECAwQFBgcICQoLDA0ODw=="}', "bad_message"],
  ['{"t":"revoke","qid":4}', "bad_message"],
  [`{"t":"device_changed","change":"paired","device":{${DEV}}}`,
    `ok:{"t":"device_changed","change":"paired","device":{${DEV},"session":false}}`],
  [`{"t":"device_changed","change":"unpaired","device":{${DEV},"session":true}}`, "ok"],
  [`{"t":"device_changed","change":"renamed","device":{${DEV}}}`, "bad_message"],
  ['{"t":"device_changed","change":"paired"}', "bad_message"],
  ['{"t":"pair_request","name":"n","agent":"a"}', 'ok:{"t":"pair_request","name":"n","agent":"a","session":false}'],
  ['{"t":"pair_request","name":"n","agent":"a","session":true}', "ok"],
  ['{"t":"pair_request","name":"n","agent":"a","session":null}', "bad_message"],
];

/** Scheduled send: `send`'s `at` and `unschedule`, each checked against messages.py (decode, then encode). */
const SEND = '{"t":"send","cmid":"0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f","to":["+15550100"],"body":"hi"';
const SCHEDULE_CASES: readonly (readonly [string, string])[] = [
  [SEND + "}", "ok:" + SEND + ',"at":null,"created":null}'],
  [SEND + ',"at":null,"created":null}', "ok"],
  [SEND + ',"at":1790000060000,"created":null}', "ok"],
  [SEND + ',"at":9007199254740991,"created":null}', "ok"],
  [SEND + ',"at":9007199254740992}', "bad_message"],
  [SEND + ',"at":-1}', "bad_message"],
  [SEND + ',"at":1.5}', "bad_message"],
  [SEND + ',"at":"soon"}', "bad_message"],
  ['{"t":"unschedule","qid":1,"msg_id":2}', "ok"],
  ['{"t":"unschedule","qid":1}', "bad_message"],
  ['{"t":"unschedule","qid":1,"msg_id":-2}', "bad_message"],
  ['{"t":"unschedule","qid":1,"msg_id":null}', "bad_message"],
];

/**
 * A text typed while the phone was away: `send`'s `created` and the host's
 * `caps.text_ttl_ms`, each checked against messages.py (decode, then encode).
 */
const WELCOME = '{"t":"welcome","proto":1,"host_name":"h","device_id":"AAAAAAAAAAAAAAAAAAAAAA","seq":0,'
  + '"caps":{"delivery_reports":true,"mms":false,"max_parts":10';
const EXPIRY_CASES: readonly (readonly [string, string])[] = [
  [SEND + ',"created":1790000000000}', "ok:" + SEND + ',"at":null,"created":1790000000000}'],
  [SEND + ',"at":1790000060000,"created":1790000000000}', "ok"],
  [SEND + ',"at":null,"created":0}', "ok"],
  [SEND + ',"at":null,"created":9007199254740991}', "ok"],
  [SEND + ',"at":null,"created":9007199254740992}', "bad_message"],
  [SEND + ',"at":null,"created":-1}', "bad_message"],
  [SEND + ',"at":null,"created":1.5}', "bad_message"],
  [SEND + ',"at":null,"created":"now"}', "bad_message"],
  [WELCOME + "}}", "ok:" + WELCOME + ',"dual_sim":false,"incoming":"events","text_ttl_ms":null}}'],
  [WELCOME + ',"dual_sim":false,"incoming":"events","text_ttl_ms":86400000}}', "ok"],
  [WELCOME + ',"text_ttl_ms":1}}', "ok:" + WELCOME + ',"dual_sim":false,"incoming":"events","text_ttl_ms":1}}'],
  [WELCOME + ',"text_ttl_ms":0}}', "bad_message"],
  [WELCOME + ',"text_ttl_ms":-5}}', "bad_message"],
  [WELCOME + ',"text_ttl_ms":60.5}}', "bad_message"],
  [WELCOME + ',"text_ttl_ms":"1 day"}}', "bad_message"],
];

describe("expiry fields agree with the Python reference", () => {
  it.each(EXPIRY_CASES.map(([input, expected], i) => [i, expected.slice(0, 60), input, expected] as const))(
    "case %i: %s", async (_i, _label, input, expected) => {
      expect(await result(input)).toBe(expected);
    });
});

describe("scheduled-send messages agree with the Python reference", () => {
  it.each(SCHEDULE_CASES.map(([input, expected], i) => [i, expected.slice(0, 60), input, expected] as const))(
    "case %i: %s", async (_i, _label, input, expected) => {
      expect(await result(input)).toBe(expected);
    });
});

describe("device messages agree with the Python reference", () => {
  it.each(DEVICE_CASES.map(([input, expected], i) => [i, expected.slice(0, 60), input, expected] as const))(
    "case %i: %s", async (_i, _short, input, expected) => {
      expect(await result(input)).toBe(expected);
    });
});

describe("history messages and record fields agree with the Python reference", () => {
  it.each(HISTORY_CASES.map(([input, expected], i) => [i, expected.slice(0, 60), input, expected] as const))(
    "case %i: %s", async (_i, _short, input, expected) => {
      expect(await result(input)).toBe(expected);
    });

  it("reads a record without the new fields as an older host's: sms, no sender, subject or attachments", () => {
    const message = decodeMessage(utf8(MSG("")));
    expect(message.t === "event" && message.event.k === "msg" && message.event.msg).toMatchObject({
      kind: "sms", sender: "", subject: null, atts: [] });
  });
});

describe("decodeMessage where Python's msgspec patterns are laxer", () => {
  // Python's `re` lets `$` match before a final "\n", so msgspec accepts these;
  // protocol v1 means the whole string (see the report to the lead).
  it.each([
    ['{"t":"send","cmid":"0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f\\n","to":["+15550100"],"body":"x"}', "bad_message"],
    ['{"t":"send","cmid":"0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f","to":["+15550100\\n"],"body":"x"}', "invalid_number"],
    ['{"t":"welcome","proto":1,"host_name":"h","device_id":"AAAAAAAAAAAAAAAAAAAAAA\\n","seq":0,'
      + '"caps":{"delivery_reports":true,"mms":false,"max_parts":10}}', "bad_message"],
  ])("refuses a trailing newline: %s", async (input, code) => {
    expect(await result(input)).toBe(code);
  });

  it("maps codes by the error's path, not by text inside a value", async () => {
    // messages.py `_code_for` searches msgspec's message, which quotes the bad enum value:
    // Python answers version_mismatch and unknown_type here (see the report).
    const ack = (state: string): string =>
      `{"t":"ack","cmid":"0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f","msg_id":1,"state":${JSON.stringify(state)},"reason":null}`;
    expect(await result(ack("a - at `$.proto"))).toBe("bad_message");
    expect(await result(ack("Invalid value `$.t`"))).toBe("bad_message");
  });

  it("refuses nesting deeper than MAX_DEPTH cleanly (Python raises RecursionError near 1000)", async () => {
    const nested = (depth: number): string => `{"t":"ping","n":9,"x":${"[".repeat(depth)}${"]".repeat(depth)}}`;
    expect(await result(nested(MAX_DEPTH - 1))).toBe('ok:{"t":"ping","n":9}');
    expect(await result(nested(MAX_DEPTH))).toBe("bad_message");
    expect(await result(nested(100_000))).toBe("bad_message");
  });
});

describe("encodeMessage", () => {
  it("writes the tag first and fields in the Python struct's order, whatever the object's order", () => {
    const send = {
      created: 1_790_000_000_000, at: 1_790_000_060_000, body: "hi", to: ["+15550100"], cmid: "0f".repeat(16), t: "send",
    } as const;
    expect(text.decode(encodeMessage(send))).toBe(
      '{"t":"send","cmid":"0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f","to":["+15550100"],"body":"hi","at":1790000060000,'
      + '"created":1790000000000}');
    const event: Message = {
      t: "event",
      event: { reason: null, at: 5, state: "sent", id: 2, seq: 9, k: "status" },
    };
    expect(text.decode(encodeMessage(event))).toBe(
      '{"t":"event","event":{"k":"status","seq":9,"id":2,"state":"sent","reason":null,"at":5}}');
  });

  it("drops properties the message type does not have", () => {
    const ping = { t: "ping", n: 1, extra: true } as Message;
    expect(text.decode(encodeMessage(ping))).toBe('{"t":"ping","n":1}');
  });

  it("escapes like msgspec: control characters as \\u00xx, everything else as UTF-8", () => {
    let all = "";
    for (let c = 0; c < 0x80; c++) all += String.fromCharCode(c);
    all += "\u2028\u2029\u00e9\u{1f605}";
    const bytes = encodeMessage({ t: "bye", reason: all });
    // The bytes msgspec.json.encode gives for the same string.
    const expected = '{"t":"bye","reason":"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n\\u000b\\f\\r'
      + "\\u000e\\u000f\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017\\u0018\\u0019\\u001a\\u001b\\u001c\\u001d"
      + '\\u001e\\u001f !\\"#$%&\'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\\\]^_`abcdefghijklmnopqrstuvwxyz{|}~'
      + '\u007f\u2028\u2029\u00e9\u{1f605}"}';
    expect(text.decode(bytes)).toBe(expected);
    expect(decodeMessage(bytes)).toEqual({ t: "bye", reason: all });
  });

  it("knows every message type of messages.py", () => {
    expect(MESSAGE_TYPES).toEqual([
      "hello", "welcome", "sync", "batch", "synced", "reset", "event", "send", "ack", "read", "search",
      "results", "convs", "conv_page", "thread", "thread_page", "conv_set", "conv_delete", "contact", "unschedule", "done",
      "devices", "device_list", "revoke", "device_changed", "fetch", "chunk", "ping", "pong", "error", "bye",
      "pair_request", "pair_accept", "pair_reject",
    ]);
  });
});

describe("encodeMessage", () => {
  it("replaces lone surrogates so the host can decode the text", () => {
    const bytes = encodeMessage({
      t: "send",
      cmid: "ab".repeat(16),
      to: ["+15550100"],
      body: "cut emoji \ud83d and \ude05 ok \ud83d\ude05",
      at: null,
      created: null,
    });
    const text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    expect(text).toContain("cut emoji \ufffd and \ufffd ok \ud83d\ude05");
    expect(text).not.toContain("\\ud83d");
  });
});
