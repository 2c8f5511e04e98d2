#pragma once
// Views, errors, buffers and threading policies: what every op shares.
#include "pact/core/error.hpp"
#include "pact/core/aligned_buffer.hpp"
#include "pact/core/huge_page_buffer.hpp"
#include "pact/core/matrix_view.hpp"
#include "pact/core/tensor_view.hpp"
#include "pact/core/threading.hpp"
