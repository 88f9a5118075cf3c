/* avro-c peer for the Avro decode benchmark: reads a PageView container file with
 * avro-c's generic value API and touches every field of every record.
 *
 * Usage: avroc_decode FILE
 * Prints one line: "records=N bytes_touched=B checksum=C seconds=S".
 */
#include <avro.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s FILE\n", argv[0]);
    return 2;
  }
  double start = now_seconds();
  avro_file_reader_t reader;
  if (avro_file_reader(argv[1], &reader)) {
    fprintf(stderr, "open: %s\n", avro_strerror());
    return 1;
  }
  avro_schema_t schema = avro_file_reader_get_writer_schema(reader);
  avro_value_iface_t* iface = avro_generic_class_from_schema(schema);
  avro_value_t value;
  avro_generic_value_new(iface, &value);
  uint64_t records = 0, touched = 0, checksum = 0;
  int rval;
  while ((rval = avro_file_reader_read_value(reader, &value)) == 0) {
    avro_value_t field, branch;
    const char* str;
    size_t size;
    int64_t l;
    int32_t i;
    int disc;
    /* url, user, ip: strings (size includes the NUL) */
    static const int kStrings[3] = {0, 1, 3};
    for (int k = 0; k < 3; ++k) {
      avro_value_get_by_index(&value, kStrings[k], &field, NULL);
      avro_value_get_string(&field, &str, &size);
      touched += size - 1;
      checksum += (unsigned char)str[0];
    }
    avro_value_get_by_index(&value, 2, &field, NULL);
    avro_value_get_long(&field, &l);
    checksum += (uint64_t)l;
    avro_value_get_by_index(&value, 4, &field, NULL);
    avro_value_get_int(&field, &i);
    checksum += (uint64_t)i;
    avro_value_get_by_index(&value, 5, &field, NULL);
    avro_value_get_discriminant(&field, &disc);
    if (disc == 1) {
      avro_value_get_current_branch(&field, &branch);
      avro_value_get_string(&branch, &str, &size);
      touched += size - 1;
    } else {
      checksum += 1;
    }
    ++records;
  }
  if (rval != EOF) {
    fprintf(stderr, "read: %s\n", avro_strerror());
    return 1;
  }
  double seconds = now_seconds() - start;
  printf("records=%llu bytes_touched=%llu checksum=%llu seconds=%.6f\n",
         (unsigned long long)records, (unsigned long long)touched, (unsigned long long)checksum,
         seconds);
  avro_value_decref(&value);
  avro_value_iface_decref(iface);
  avro_schema_decref(schema);
  avro_file_reader_close(reader);
  return 0;
}
