# The .ecnn graph section is a FlatBuffer (src/format/ecnn.fbs). Its C++ header is generated
# at build time by Debian's flatc: generated code checks FLATBUFFERS_VERSION against the
# installed headers, so a committed header would break when flatbuffers is upgraded.
find_program(FLATC_EXECUTABLE flatc REQUIRED)
find_path(FLATBUFFERS_INCLUDE_DIR flatbuffers/flatbuffers.h REQUIRED)
find_path(XXHASH_INCLUDE_DIR xxhash.h REQUIRED)
set(EDGECNN_GENERATED_DIR ${CMAKE_CURRENT_BINARY_DIR}/generated)
set(EDGECNN_SCHEMA ${CMAKE_CURRENT_SOURCE_DIR}/src/format/ecnn.fbs)
set(EDGECNN_SCHEMA_HEADER ${EDGECNN_GENERATED_DIR}/format/ecnn_generated.h)
add_custom_command(
  OUTPUT ${EDGECNN_SCHEMA_HEADER}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${EDGECNN_GENERATED_DIR}/format
  COMMAND ${FLATC_EXECUTABLE} --cpp --scoped-enums -o ${EDGECNN_GENERATED_DIR}/format ${EDGECNN_SCHEMA}
  DEPENDS ${EDGECNN_SCHEMA}
  COMMENT "flatc: .ecnn schema")
add_custom_target(edgecnn_schema DEPENDS ${EDGECNN_SCHEMA_HEADER})
