#include "harness/report.h"
