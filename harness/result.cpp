#include "harness/result.h"
