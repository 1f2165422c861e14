#pragma once
// The libFuzzer entry point each target defines; replay_main.cpp calls it under g++.

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);
