# Fails unless README.md contains the example file verbatim (inside its ```cpp block).
file(READ "${README}" readme)
file(READ "${EXAMPLE}" example)
string(FIND "${readme}" "${example}" pos)
if(pos EQUAL -1)
  message(FATAL_ERROR "README.md does not contain ${EXAMPLE} verbatim: update the usage example in the README")
endif()
message(STATUS "README example is in sync with ${EXAMPLE}")
