#pragma once
// Phone calls through Azure Communication Services: the HTTP and WebSocket surface of
// transport/acs/ wired to the Runtime.
//
//   POST    /api/v1/calls/events     Event Grid: subscription validation, IncomingCall
//   OPTIONS /api/v1/calls/events     CloudEvents webhook handshake (WebHook-Allowed-Origin)
//   POST    /api/v1/calls/callbacks  Call Automation CloudEvents (?call=ID&token=T)
//   GET     /api/v1/media/acs        (WS) bidirectional media streaming (?call=ID&token=T; without
//                                    a call: a stand-alone session, e.g. for loadgen)
//   GET     /api/v1/calls[/{id}]     calls, live and recent
//   POST    /api/v1/calls            outbound call {"target": "+1..."}
//   DELETE  /api/v1/calls/{id}       hang up
//
// Each answered call holds one admission slot (Runtime::TryAdmit) from IncomingCall to its end;
// at capacity calls are rejected as busy. Callback and media URLs carry a per-call secret token.

#include "app/runtime.h"
#include "server/router.h"

namespace artagent::app {

// The routes share one service object that the router's handlers keep alive. It never touches
// `runtime` once the server has stopped.
void AddAcsRoutes(server::Router& router, Runtime* runtime);

// `artagent call --simulate ...` (app/call_command.cc).
int CallCommand(int argc, char** argv);

}  // namespace artagent::app
