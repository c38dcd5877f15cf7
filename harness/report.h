#pragma once
// Reports of a suite run: console summary, JSON, JUnit XML and a self-contained HTML page.
#include "harness/result.h"
