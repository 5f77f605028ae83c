/**
 * The small HTTP kit the stand-ins and the sandbox are built on: bodies read with a limit, JSON
 * replies, routes with parameters, fault plans, and servers on 127.0.0.1 that close cleanly.
 */
export { DEFAULT_BODY_LIMIT, parseJson, readBody } from './body.js';
export { BodyTooLargeError, HttpError, InvalidJsonError } from './errors.js';
export { dropConnection, FaultPlan, matchesRequest, type RequestMatch } from './faults.js';
export { send, sendJson, sendText } from './reply.js';
export { decodedSegment, pathOf, type Route, type RouteMatch, Router, urlOf } from './router.js';
export {
  answerJsonError,
  type ErrorHandler,
  type HttpServer,
  type HttpServerOptions,
  type RequestHandler,
  startHttpServer,
} from './server.js';
