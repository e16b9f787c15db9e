// Everything an application needs.
#pragma once

#include "plexus/context.h"
#include "plexus/exit_reason.h"
#include "plexus/inbox.h"
#include "plexus/log.h"
#include "plexus/message.h"
#include "plexus/pid.h"
#include "plexus/process_info.h"
#include "plexus/receive.h"
#include "plexus/runtime.h"
#include "plexus/server.h"
#include "plexus/status.h"
#include "plexus/supervisor.h"
#include "plexus/task.h"
#include "plexus/term.h"
