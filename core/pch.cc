// Owner of the precompiled header (core/pch.h); holds no code.
