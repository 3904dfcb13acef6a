# Fails if any of FILES ('|'-separated) exists: a program that failed must not leave an output.
string(REPLACE "|" ";" FILES "${FILES}")
foreach(f IN LISTS FILES)
  if(EXISTS "${f}")
    message(FATAL_ERROR "${f} exists: a failed run left an output file")
  endif()
endforeach()
