/* The ESP32-S3 port of the Rivulet device host: NVS, Wi-Fi station (menuconfig: Rivulet), SNTP
 * wall time for stream IDs, esp_timer for intervals, LittleFS on the `storage` partition for the
 * AOF and snapshots (through a flash task with an internal-RAM stack), the embedded rivulet.wasm
 * read in place, and the engine on its own task with a PSRAM stack sized from the measured
 * no-tail-call figure. The portable core is components/rivulet_host; this file is only the board.
 *
 * Not built or run on this project's CI (no ESP-IDF there): see ../README.md for what was checked. */
#include <stdio.h>
#include <string.h>
#include <sys/time.h>

#include "esp_event.h"
#include "esp_heap_caps.h"
#include "esp_littlefs.h"
#include "esp_log.h"
#include "esp_netif.h"
#include "esp_netif_sntp.h"
#include "esp_timer.h"
#include "esp_wifi.h"
#include "freertos/FreeRTOS.h"
#include "freertos/event_groups.h"
#include "freertos/task.h"
#include "nvs_flash.h"

#include "bsd_server.h"
#include "flash_storage.h"
#include "posix_storage.h"
#include "rv_engine.h"
#include "rv_loop.h"
#include "rv_persist.h"

static const char *TAG = "rivulet";

extern const uint8_t wasm_start[] asm("_binary_rivulet_wasm_start");
extern const uint8_t wasm_end[] asm("_binary_rivulet_wasm_end");

static EventGroupHandle_t net_events;
#define GOT_IP BIT0

/* ------------------------------------------------------------------ clock */

static double now_ms(void *ctx) {
  struct timeval tv;
  gettimeofday(&tv, NULL); /* SNTP-synchronised */
  return (double)tv.tv_sec * 1000 + (double)(tv.tv_usec / 1000);
}
static double mono_ms(void *ctx) { return (double)esp_timer_get_time() / 1000.0; }
static const rv_clock board_clock = {NULL, now_ms, mono_ms};

static void log_line(void *ctx, char level, const char *msg) {
  if (level == '#') ESP_LOGW(TAG, "%s", msg);
  else ESP_LOGI(TAG, "%s", msg);
}

static void on_fatal(void *ctx, const char *msg) {
  ESP_LOGE(TAG, "%s", msg);
  esp_restart(); /* the AOF holds every acknowledged write */
}

static volatile int shutdown_requested;
static void on_requests(void *ctx, int32_t bits) {
  if (bits & RV_HOST_REQUEST_SHUTDOWN) shutdown_requested = 1;
}

/* ------------------------------------------------------------------ Wi-Fi + SNTP */

static void on_net_event(void *arg, esp_event_base_t base, int32_t id, void *data) {
  if (base == WIFI_EVENT && (id == WIFI_EVENT_STA_START || id == WIFI_EVENT_STA_DISCONNECTED)) esp_wifi_connect();
  else if (base == IP_EVENT && id == IP_EVENT_STA_GOT_IP) xEventGroupSetBits(net_events, GOT_IP);
}

static void start_network(void) {
  net_events = xEventGroupCreate();
  ESP_ERROR_CHECK(esp_netif_init());
  ESP_ERROR_CHECK(esp_event_loop_create_default());
  esp_netif_create_default_wifi_sta();
  wifi_init_config_t cfg = WIFI_INIT_CONFIG_DEFAULT();
  ESP_ERROR_CHECK(esp_wifi_init(&cfg));
  ESP_ERROR_CHECK(esp_event_handler_register(WIFI_EVENT, ESP_EVENT_ANY_ID, on_net_event, NULL));
  ESP_ERROR_CHECK(esp_event_handler_register(IP_EVENT, IP_EVENT_STA_GOT_IP, on_net_event, NULL));
  wifi_config_t wc = {0};
  strncpy((char *)wc.sta.ssid, CONFIG_RIVULET_WIFI_SSID, sizeof wc.sta.ssid);
  strncpy((char *)wc.sta.password, CONFIG_RIVULET_WIFI_PASSWORD, sizeof wc.sta.password);
  ESP_ERROR_CHECK(esp_wifi_set_mode(WIFI_MODE_STA));
  ESP_ERROR_CHECK(esp_wifi_set_config(WIFI_IF_STA, &wc));
  ESP_ERROR_CHECK(esp_wifi_start());
  xEventGroupWaitBits(net_events, GOT_IP, pdFALSE, pdTRUE, portMAX_DELAY);
  esp_sntp_config_t sc = ESP_NETIF_SNTP_DEFAULT_CONFIG(CONFIG_RIVULET_SNTP_SERVER);
  esp_netif_sntp_init(&sc);
  /* stream IDs are wall-clock milliseconds: wait for the time before serving */
  while (esp_netif_sntp_sync_wait(pdMS_TO_TICKS(10000)) != ESP_OK) ESP_LOGW(TAG, "waiting for SNTP time");
}

/* ------------------------------------------------------------------ the engine task */

static int config_set(rv_engine *e, const char *name, const char *value) {
  const char *argv[] = {"CONFIG", "SET", name, value};
  uint8_t out[256];
  int n = rv_control_command(e, 4, argv, out, sizeof out - 1, now_ms(NULL));
  return n > 0 && out[0] != '-' ? 0 : -1;
}

static void engine_task(void *arg) {
  char err[512];
  rv_engine *e = rv_engine_load(wasm_start, (size_t)(wasm_end - wasm_start), 16 * 1024, err, sizeof err);
  if (!e) {
    ESP_LOGE(TAG, "%s", err);
    vTaskDelete(NULL);
  }
  int32_t pages = rv_i(e, rv_set_page_budget, CONFIG_RIVULET_PAGE_BUDGET);
  ESP_LOGI(TAG, "engine loaded: page budget %d, free PSRAM %u", (int)pages, (unsigned)heap_caps_get_free_size(MALLOC_CAP_SPIRAM));
  rv_loop *loop = rv_loop_new(e, &board_clock, CONFIG_RIVULET_MAX_CLIENTS);
  config_set(e, "appendonly", "yes");
  config_set(e, "appendfsync", IS_ENABLED(CONFIG_RIVULET_APPENDFSYNC_ALWAYS) ? "always" : "everysec");
  config_set(e, "dir", "/data");
  static rv_storage fs, flash;
  static rv_posix_storage pst;
  if (rv_posix_storage_init(&fs, &pst, "/data", err, sizeof err) != 0 || rv_flash_storage_init(&flash, &fs) != 0) {
    ESP_LOGE(TAG, "storage: %s", err);
    vTaskDelete(NULL);
  }
  rv_persist_options po = {&flash, log_line, NULL, "rivulet-esp32s3", "esp32s3", on_fatal, on_requests, NULL, 256 * 1024};
  rv_persist *p = rv_persist_open(loop, &po, err, sizeof err);
  if (!p) {
    ESP_LOGE(TAG, "%s", err);
    vTaskDelete(NULL);
  }
  if (CONFIG_RIVULET_REQUIREPASS[0]) config_set(e, "requirepass", CONFIG_RIVULET_REQUIREPASS);
  rv_i(e, rv_take_requests);
  rv_server_options so = {"0.0.0.0", CONFIG_RIVULET_PORT, CONFIG_RIVULET_MAX_CLIENTS, 64 * 1024};
  rv_server *srv = rv_server_start(loop, &so, err, sizeof err);
  if (!srv) {
    ESP_LOGE(TAG, "%s", err);
    vTaskDelete(NULL);
  }
  ESP_LOGI(TAG, "Listening on port %d (TCP)", rv_server_port(srv));
  double next_cron = mono_ms(NULL) + 100;
  while (!shutdown_requested && !rv_loop_failure(loop)) {
    double wait = next_cron - mono_ms(NULL);
    double dl = rv_loop_next_timeout(loop);
    if (dl >= 0 && dl < wait) wait = dl;
    if (rv_persist_busy(p) || wait < 0) wait = 0;
    rv_server_turn(srv, (int)(wait + 0.999));
    if (mono_ms(NULL) >= next_cron) {
      next_cron = mono_ms(NULL) + 100;
      rv_persist_cron(p);
    }
  }
  if (rv_loop_failure(loop)) ESP_LOGE(TAG, "engine failed: %s", rv_loop_failure(loop));
  rv_persist_close(p, -1);
  rv_server_stop(srv, 1000);
  esp_restart();
}

void app_main(void) {
  esp_err_t r = nvs_flash_init();
  if (r == ESP_ERR_NVS_NO_FREE_PAGES || r == ESP_ERR_NVS_NEW_VERSION_FOUND) {
    ESP_ERROR_CHECK(nvs_flash_erase());
    r = nvs_flash_init();
  }
  ESP_ERROR_CHECK(r);
  esp_vfs_littlefs_conf_t lfs = {.base_path = "/data", .partition_label = "storage", .format_if_mount_failed = true};
  ESP_ERROR_CHECK(esp_vfs_littlefs_register(&lfs));
  start_network();
  /* the engine task's stack in PSRAM: without tail calls (Xtensa) today's module needs ~150-190 KB */
  size_t stack = (size_t)CONFIG_RIVULET_ENGINE_STACK_KB * 1024;
  StackType_t *mem = (StackType_t *)heap_caps_malloc(stack, MALLOC_CAP_SPIRAM | MALLOC_CAP_8BIT);
  static StaticTask_t tcb;
  if (!mem || !xTaskCreateStaticPinnedToCore(engine_task, "rivulet", stack / sizeof(StackType_t), NULL, 5, mem, &tcb, 1)) {
    ESP_LOGE(TAG, "cannot create the engine task (%u bytes of PSRAM stack)", (unsigned)stack);
  }
}
