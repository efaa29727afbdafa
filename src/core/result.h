#pragma once
// Result<T>: a value or a Status (redpanda's outcome alias). Boost.Outcome is
// header-only and comes with the Boost packages we already need.

#include <boost/outcome/basic_result.hpp>
#include <boost/outcome/policy/terminate.hpp>
#include <boost/outcome/try.hpp>

#include "src/core/status.h"

namespace eventsift {

template <typename T>
using Result = boost::outcome_v2::basic_result<T, Status, boost::outcome_v2::policy::terminate>;

}  // namespace eventsift

// ES_ASSIGN_OR_RETURN(var, expr) declares `var` (no type: Boost 1.74 spells
// BOOST_OUTCOME_TRY(v, e) without auto) or returns the error.
#define ES_ASSIGN_OR_RETURN(var, expr) BOOST_OUTCOME_TRY(var, expr)
