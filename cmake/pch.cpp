// The pch targets need one source to compile; their precompiled header is the product (cmake/pch.cmake).
