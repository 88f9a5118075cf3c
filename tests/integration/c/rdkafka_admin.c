/* librdkafka's consumer-group admin API (librdkafka-dev, the same library
 * confluent-kafka-python and kcat use; confluent-kafka-python 1.7 does not
 * expose these calls yet) as a command-line tool for integration tests.
 *
 *   rdkafka_admin BOOTSTRAP list-groups [STATE,...]
 *   rdkafka_admin BOOTSTRAP describe GROUP...
 *   rdkafka_admin BOOTSTRAP delete GROUP...
 *   rdkafka_admin BOOTSTRAP list-offsets GROUP [TOPIC:PARTITION,...]
 *   rdkafka_admin BOOTSTRAP alter-offsets GROUP TOPIC:PARTITION:OFFSET,...
 *   rdkafka_admin BOOTSTRAP delete-offsets GROUP TOPIC:PARTITION,...
 *
 * Prints one JSON object per line (a group, or an error) and exits 0 when
 * the request itself completed (per-group and per-partition errors are in
 * the output), 1 on a request-level error. */
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void json_str(const char* s) {
  if (s == NULL) {
    fputs("null", stdout);
    return;
  }
  putchar('"');
  for (; *s; ++s) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') {
      printf("\\%c", c);
    } else if (c < 0x20) {
      printf("\\u%04x", c);
    } else {
      putchar(c);
    }
  }
  putchar('"');
}

static void json_error(const rd_kafka_error_t* e) {
  if (e == NULL) {
    fputs("null", stdout);
    return;
  }
  printf("{\"code\":%d,\"name\":", (int)rd_kafka_error_code(e));
  json_str(rd_kafka_error_name(e));
  fputs("}", stdout);
}

static void json_partitions(const rd_kafka_topic_partition_list_t* l) {
  putchar('[');
  for (int i = 0; l != NULL && i < l->cnt; ++i) {
    const rd_kafka_topic_partition_t* p = &l->elems[i];
    if (i) putchar(',');
    fputs("{\"topic\":", stdout);
    json_str(p->topic);
    printf(",\"partition\":%d,\"offset\":%lld,\"error\":%d,\"metadata\":", (int)p->partition,
           (long long)p->offset, (int)p->err);
    if (p->metadata != NULL) {
      char* m = malloc(p->metadata_size + 1);
      memcpy(m, p->metadata, p->metadata_size);
      m[p->metadata_size] = 0;
      json_str(m);
      free(m);
    } else {
      fputs("null", stdout);
    }
    putchar('}');
  }
  putchar(']');
}

/* "t:0,t:1" or "t:0:5,t:1:7" */
static rd_kafka_topic_partition_list_t* parse_partitions(const char* arg, int with_offset) {
  rd_kafka_topic_partition_list_t* l = rd_kafka_topic_partition_list_new(8);
  char* copy = strdup(arg);
  for (char* tok = strtok(copy, ","); tok != NULL; tok = strtok(NULL, ",")) {
    char* c1 = strchr(tok, ':');
    if (c1 == NULL) continue;
    *c1 = 0;
    char* rest = c1 + 1;
    char* c2 = with_offset ? strchr(rest, ':') : NULL;
    if (c2 != NULL) *c2 = 0;
    rd_kafka_topic_partition_t* p = rd_kafka_topic_partition_list_add(l, tok, atoi(rest));
    if (c2 != NULL) p->offset = atoll(c2 + 1);
  }
  free(copy);
  return l;
}

static void print_group_results(const rd_kafka_group_result_t** groups, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    fputs("{\"group\":", stdout);
    json_str(rd_kafka_group_result_name(groups[i]));
    fputs(",\"error\":", stdout);
    json_error(rd_kafka_group_result_error(groups[i]));
    fputs(",\"partitions\":", stdout);
    json_partitions(rd_kafka_group_result_partitions(groups[i]));
    puts("}");
  }
}

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: rdkafka_admin BOOTSTRAP COMMAND ARGS...\n");
    return 2;
  }
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  if (rd_kafka_conf_set(conf, "bootstrap.servers", argv[1], err, sizeof(err)) != RD_KAFKA_CONF_OK) {
    fprintf(stderr, "%s\n", err);
    return 2;
  }
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
  if (rk == NULL) {
    fprintf(stderr, "%s\n", err);
    return 2;
  }
  rd_kafka_queue_t* q = rd_kafka_queue_new(rk);
  const char* cmd = argv[2];
  rd_kafka_admin_op_t op = RD_KAFKA_ADMIN_OP_ANY;
  rd_kafka_event_type_t want = 0;

  if (!strcmp(cmd, "list-groups")) {
    op = RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPS;
    want = RD_KAFKA_EVENT_LISTCONSUMERGROUPS_RESULT;
    rd_kafka_AdminOptions_t* o = rd_kafka_AdminOptions_new(rk, op);
    rd_kafka_AdminOptions_set_request_timeout(o, 30000, err, sizeof(err));
    if (argc > 3) {
      rd_kafka_consumer_group_state_t states[8];
      size_t n = 0;
      char* copy = strdup(argv[3]);
      for (char* t = strtok(copy, ","); t != NULL && n < 8; t = strtok(NULL, ","))
        states[n++] = rd_kafka_consumer_group_state_code(t);
      free(copy);
      rd_kafka_error_t* e = rd_kafka_AdminOptions_set_match_consumer_group_states(o, states, n);
      if (e != NULL) {
        fprintf(stderr, "%s\n", rd_kafka_error_string(e));
        return 2;
      }
    }
    rd_kafka_ListConsumerGroups(rk, o, q);
    rd_kafka_AdminOptions_destroy(o);
  } else if (!strcmp(cmd, "describe")) {
    op = RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS;
    want = RD_KAFKA_EVENT_DESCRIBECONSUMERGROUPS_RESULT;
    rd_kafka_AdminOptions_t* o = rd_kafka_AdminOptions_new(rk, op);
    rd_kafka_AdminOptions_set_request_timeout(o, 30000, err, sizeof(err));
    rd_kafka_DescribeConsumerGroups(rk, (const char**)&argv[3], (size_t)(argc - 3), o, q);
    rd_kafka_AdminOptions_destroy(o);
  } else if (!strcmp(cmd, "delete")) {
    op = RD_KAFKA_ADMIN_OP_DELETEGROUPS;
    want = RD_KAFKA_EVENT_DELETEGROUPS_RESULT;
    rd_kafka_AdminOptions_t* o = rd_kafka_AdminOptions_new(rk, op);
    rd_kafka_AdminOptions_set_request_timeout(o, 30000, err, sizeof(err));
    rd_kafka_DeleteGroup_t* del[16];
    size_t n = 0;
    for (int i = 3; i < argc && n < 16; ++i) del[n++] = rd_kafka_DeleteGroup_new(argv[i]);
    rd_kafka_DeleteGroups(rk, del, n, o, q);
    rd_kafka_DeleteGroup_destroy_array(del, n);
    rd_kafka_AdminOptions_destroy(o);
  } else if (!strcmp(cmd, "list-offsets") && argc > 3) {
    op = RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS;
    want = RD_KAFKA_EVENT_LISTCONSUMERGROUPOFFSETS_RESULT;
    rd_kafka_AdminOptions_t* o = rd_kafka_AdminOptions_new(rk, op);
    rd_kafka_AdminOptions_set_request_timeout(o, 30000, err, sizeof(err));
    rd_kafka_topic_partition_list_t* parts = argc > 4 ? parse_partitions(argv[4], 0) : NULL;
    rd_kafka_ListConsumerGroupOffsets_t* l = rd_kafka_ListConsumerGroupOffsets_new(argv[3], parts);
    rd_kafka_ListConsumerGroupOffsets(rk, &l, 1, o, q);
    rd_kafka_ListConsumerGroupOffsets_destroy(l);
    if (parts != NULL) rd_kafka_topic_partition_list_destroy(parts);
    rd_kafka_AdminOptions_destroy(o);
  } else if (!strcmp(cmd, "alter-offsets") && argc > 4) {
    op = RD_KAFKA_ADMIN_OP_ALTERCONSUMERGROUPOFFSETS;
    want = RD_KAFKA_EVENT_ALTERCONSUMERGROUPOFFSETS_RESULT;
    rd_kafka_AdminOptions_t* o = rd_kafka_AdminOptions_new(rk, op);
    rd_kafka_AdminOptions_set_request_timeout(o, 30000, err, sizeof(err));
    rd_kafka_topic_partition_list_t* parts = parse_partitions(argv[4], 1);
    rd_kafka_AlterConsumerGroupOffsets_t* a =
        rd_kafka_AlterConsumerGroupOffsets_new(argv[3], parts);
    rd_kafka_AlterConsumerGroupOffsets(rk, &a, 1, o, q);
    rd_kafka_AlterConsumerGroupOffsets_destroy(a);
    rd_kafka_topic_partition_list_destroy(parts);
    rd_kafka_AdminOptions_destroy(o);
  } else if (!strcmp(cmd, "delete-offsets") && argc > 4) {
    op = RD_KAFKA_ADMIN_OP_DELETECONSUMERGROUPOFFSETS;
    want = RD_KAFKA_EVENT_DELETECONSUMERGROUPOFFSETS_RESULT;
    rd_kafka_AdminOptions_t* o = rd_kafka_AdminOptions_new(rk, op);
    rd_kafka_AdminOptions_set_request_timeout(o, 30000, err, sizeof(err));
    rd_kafka_topic_partition_list_t* parts = parse_partitions(argv[4], 0);
    rd_kafka_DeleteConsumerGroupOffsets_t* d =
        rd_kafka_DeleteConsumerGroupOffsets_new(argv[3], parts);
    rd_kafka_DeleteConsumerGroupOffsets(rk, &d, 1, o, q);
    rd_kafka_DeleteConsumerGroupOffsets_destroy(d);
    rd_kafka_topic_partition_list_destroy(parts);
    rd_kafka_AdminOptions_destroy(o);
  } else {
    fprintf(stderr, "unknown command %s\n", cmd);
    return 2;
  }

  rd_kafka_event_t* ev = rd_kafka_queue_poll(q, 60000);
  int rc = 0;
  if (ev == NULL) {
    puts("{\"request_error\":\"timed out\"}");
    rc = 1;
  } else if (rd_kafka_event_type(ev) != want) {
    printf("{\"request_error\":\"unexpected event %s\"}\n", rd_kafka_event_name(ev));
    rc = 1;
  } else if (rd_kafka_event_error(ev)) {
    printf("{\"request_error\":");
    json_str(rd_kafka_event_error_string(ev));
    printf(",\"code\":%d}\n", (int)rd_kafka_event_error(ev));
    rc = 1;
  } else if (want == RD_KAFKA_EVENT_LISTCONSUMERGROUPS_RESULT) {
    const rd_kafka_ListConsumerGroups_result_t* res = rd_kafka_event_ListConsumerGroups_result(ev);
    size_t n = 0;
    const rd_kafka_ConsumerGroupListing_t** valid =
        rd_kafka_ListConsumerGroups_result_valid(res, &n);
    for (size_t i = 0; i < n; ++i) {
      fputs("{\"group\":", stdout);
      json_str(rd_kafka_ConsumerGroupListing_group_id(valid[i]));
      fputs(",\"state\":", stdout);
      json_str(rd_kafka_consumer_group_state_name(rd_kafka_ConsumerGroupListing_state(valid[i])));
      printf(",\"simple\":%s}\n",
             rd_kafka_ConsumerGroupListing_is_simple_consumer_group(valid[i]) ? "true" : "false");
    }
    const rd_kafka_error_t** errs = rd_kafka_ListConsumerGroups_result_errors(res, &n);
    for (size_t i = 0; i < n; ++i) {
      fputs("{\"list_error\":", stdout);
      json_error(errs[i]);
      puts("}");
    }
  } else if (want == RD_KAFKA_EVENT_DESCRIBECONSUMERGROUPS_RESULT) {
    size_t n = 0;
    const rd_kafka_ConsumerGroupDescription_t** gs = rd_kafka_DescribeConsumerGroups_result_groups(
        rd_kafka_event_DescribeConsumerGroups_result(ev), &n);
    for (size_t i = 0; i < n; ++i) {
      const rd_kafka_ConsumerGroupDescription_t* g = gs[i];
      fputs("{\"group\":", stdout);
      json_str(rd_kafka_ConsumerGroupDescription_group_id(g));
      fputs(",\"error\":", stdout);
      json_error(rd_kafka_ConsumerGroupDescription_error(g));
      fputs(",\"state\":", stdout);
      json_str(rd_kafka_consumer_group_state_name(rd_kafka_ConsumerGroupDescription_state(g)));
      printf(",\"simple\":%s,\"assignor\":",
             rd_kafka_ConsumerGroupDescription_is_simple_consumer_group(g) ? "true" : "false");
      json_str(rd_kafka_ConsumerGroupDescription_partition_assignor(g));
      fputs(",\"members\":[", stdout);
      size_t m = rd_kafka_ConsumerGroupDescription_member_count(g);
      for (size_t k = 0; k < m; ++k) {
        const rd_kafka_MemberDescription_t* md = rd_kafka_ConsumerGroupDescription_member(g, k);
        if (k) putchar(',');
        fputs("{\"client_id\":", stdout);
        json_str(rd_kafka_MemberDescription_client_id(md));
        fputs(",\"consumer_id\":", stdout);
        json_str(rd_kafka_MemberDescription_consumer_id(md));
        fputs(",\"host\":", stdout);
        json_str(rd_kafka_MemberDescription_host(md));
        fputs(",\"assignment\":", stdout);
        json_partitions(
            rd_kafka_MemberAssignment_partitions(rd_kafka_MemberDescription_assignment(md)));
        putchar('}');
      }
      puts("]}");
    }
  } else {
    size_t n = 0;
    const rd_kafka_group_result_t** gs = NULL;
    if (want == RD_KAFKA_EVENT_DELETEGROUPS_RESULT)
      gs = rd_kafka_DeleteGroups_result_groups(rd_kafka_event_DeleteGroups_result(ev), &n);
    else if (want == RD_KAFKA_EVENT_LISTCONSUMERGROUPOFFSETS_RESULT)
      gs = rd_kafka_ListConsumerGroupOffsets_result_groups(
          rd_kafka_event_ListConsumerGroupOffsets_result(ev), &n);
    else if (want == RD_KAFKA_EVENT_ALTERCONSUMERGROUPOFFSETS_RESULT)
      gs = rd_kafka_AlterConsumerGroupOffsets_result_groups(
          rd_kafka_event_AlterConsumerGroupOffsets_result(ev), &n);
    else
      gs = rd_kafka_DeleteConsumerGroupOffsets_result_groups(
          rd_kafka_event_DeleteConsumerGroupOffsets_result(ev), &n);
    print_group_results(gs, n);
  }
  if (ev != NULL) rd_kafka_event_destroy(ev);
  rd_kafka_queue_destroy(q);
  rd_kafka_destroy(rk);
  return rc;
}
